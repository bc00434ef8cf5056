package io.dalang.runtime.bench;

import io.dalang.engine.EngineConfig;
import io.dalang.engine.Generations;
import io.dalang.engine.GpuBinding;
import io.dalang.engine.LlamaServerEngine;
import io.dalang.engine.Offload;
import io.dalang.engine.provision.Backend;
import io.dalang.engine.provision.EngineEntry;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.GgufReader;
import io.dalang.gguf.OffloadProfile;
import io.dalang.gguf.TinyModel;
import io.dalang.gpu.GpuProbe;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.node.Device;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalang bench offload}: the same generations on the CPU build of llama-server and on a GPU
 * backend's build with every layer on the device, in one run: tokens/s of each and their ratio, the
 * layers the engine reports on the device, and the memory estimate against the buffers the engine
 * reports there. On lavapipe (Vulkan computed on the CPU) the ratio is below 1: it proves the path; on a
 * real GPU it is the speed-up.
 */
@Command(name = "offload", mixinStandardHelpOptions = true,
    description = "Tokens/s on the CPU build vs a GPU backend's build with every layer offloaded, same model, same run.")
public final class OffloadBench implements Callable<Integer> {

  @Option(names = "--backend", paramLabel = "vulkan|cuda", description = "The GPU backend to compare with the CPU (default vulkan)")
  String backend = "vulkan";

  @Option(names = "--device-index", description = "The device's index among the backend's devices (default 0)")
  int deviceIndex = 0;

  @Option(names = "--requests", description = "Generations per side (default 20)")
  int requests = 20;

  @Option(names = "--max-tokens", description = "Tokens per generation (default 64)")
  int maxTokens = 64;

  @Option(names = "--layers", description = "Blocks of the generated model (default 4)")
  int layers = 4;

  @Option(names = "--width", description = "Embedding width of the generated model (default 256)")
  int width = 256;

  @Option(names = "--threads", description = "llama-server threads on each side (default 2)")
  int threads = 2;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Backend gpu = Backend.parse(backend);
    if (!gpu.gpu()) {
      out.println("dalang bench offload: --backend must be a GPU backend (vulkan, cuda)");
      return 2;
    }
    var provisioner = new EngineProvisioner(EngineProvisioner.defaultCacheRoot(), line -> out.println("  " + line));
    EngineEntry cpuBuild = provisioner.ensureLlamaServer(EngineSource.DEFAULT, Backend.CPU);
    EngineEntry gpuBuild = provisioner.ensureLlamaServer(EngineSource.DEFAULT, gpu);
    if (gpuBuild.backendKind() != gpu) {
      out.println("dalang bench offload: no " + gpu.id() + " build of llama-server (it failed before); nothing to compare");
      return 1;
    }
    List<Device> devices = gpu == Backend.VULKAN ? GpuProbe.vulkan() : GpuProbe.nvidiaSmi();
    Device device = devices.stream().filter(d -> d.index() == deviceIndex).findFirst().orElse(null);
    if (device == null) {
      out.println("dalang bench offload: no " + gpu.id() + " device with index " + deviceIndex + " on this machine");
      return 1;
    }
    Path dir = Files.createTempDirectory("dalang-bench-offload");
    Path model = dir.resolve("model.gguf");
    TinyModel.write(new TinyModel.Spec(3, layers, width, 8, 8, width * 2, 4096, GgmlType.F16), model);
    int ctx = 1024;
    var profile = OffloadProfile.of(GgufReader.read(model), ctx, 1, 0);

    out.printf("model: %d blocks x %d wide, F16; %d generations x %d tokens per side, %d threads%n", layers, width, requests, maxTokens, threads);
    out.printf("device: %s (%s%s)%n", device.id(), device.name(), device.software() ? ", software" : "");
    Side cpu = run(provisioner, cpuBuild, GpuBinding.CPU, model, ctx, dir.resolve("cpu"));
    Side onGpu = run(provisioner, gpuBuild, new GpuBinding(gpu, deviceIndex, OffloadProfile.ALL_LAYERS), model, ctx, dir.resolve("gpu"));
    out.printf("%-8s %10s %12s %s%n", "side", "tokens/s", "layers", "device buffers (MiB)");
    out.printf("%-8s %10.1f %12s %s%n", "cpu", cpu.tokensPerSecond(), "-", "-");
    var o = onGpu.offload();
    out.printf("%-8s %10.1f %12s %.2f (model %.2f, KV %.2f, compute %.2f)%n", gpu.id(), onGpu.tokensPerSecond(),
        o.layersOffloaded() + "/" + o.layersTotal() + " " + o.device(), o.deviceMib(), o.modelMib(), o.kvMib(), o.computeMib());
    double estimate = profile.deviceBytes(profile.layers()) / 1048576.0;
    out.printf("ratio %s/cpu tokens/s: %.3f%n", gpu.id(), onGpu.tokensPerSecond() / cpu.tokensPerSecond());
    out.printf("memory estimate for every layer: %.2f MiB vs %.2f reported (%+.1f%%)%n", estimate, o.deviceMib(),
        o.deviceMib() > 0 ? 100 * (estimate / o.deviceMib() - 1) : 0.0);
    out.flush();
    return 0;
  }

  record Side(double tokensPerSecond, Offload offload) {}

  private Side run(EngineProvisioner provisioner, EngineEntry build, GpuBinding binding, Path model, int ctx, Path work) throws Exception {
    var cfg = new EngineConfig(model, ctx, 1, threads, Duration.ofSeconds(300), work, false, List.of(), binding);
    try (var engine = provisioner.llamaServer(build, cfg)) {
      engine.start();
      generate(engine, 0, 8); // warm-up: first-use costs (shader compilation, caches) are not measured
      long tokens = 0;
      long t0 = System.nanoTime();
      for (int i = 0; i < requests; i++) tokens += generate(engine, i + 1, maxTokens);
      double seconds = (System.nanoTime() - t0) / 1e9;
      return new Side(tokens / seconds, engine.offload());
    }
  }

  private static int generate(LlamaServerEngine engine, int i, int max) throws Exception {
    var run = Generations.run(engine, new GenerationRequest("run_bench_" + i, "Once upon a time", null, max, 0.0, 1.0, 1L + i, List.of()),
        Duration.ofSeconds(300));
    if (!run.ended()) throw new IllegalStateException("generation failed: " + run.last());
    return run.tokens().size();
  }
}
