package io.dalang.runtime.cli;

import io.dalang.engine.EngineConfig;
import io.dalang.engine.Generations;
import io.dalang.engine.GpuBinding;
import io.dalang.engine.provision.Backend;
import io.dalang.engine.provision.EngineEntry;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import io.dalang.gguf.OffloadProfile;
import io.dalang.gguf.TinyModel;
import io.dalang.gpu.GpuProbe;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.node.Device;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalang node doctor}: checks that this machine can serve from its devices, the way a GPU node
 * would: the drivers and what they list, the toolchain of each backend found, the llama-server build
 * of each (built on first use unless {@code --no-build}), and one real generation on every device with
 * every layer offloaded, read back from the engine's own log. Exit 0 when every check passes, 1 otherwise.
 */
@Command(name = "doctor", mixinStandardHelpOptions = true,
    description = "Check this machine's GPU drivers, toolchains and llama-server builds, and generate one token on each device.")
public final class NodeDoctorCommand implements Callable<Integer> {

  @Option(names = "--backend", paramLabel = "auto|cpu|vulkan|cuda",
      description = "Which devices to check, as `dalang node --backend` would take them (default auto)")
  String backend = "auto";

  @Option(names = "--no-build", description = "Do not build a missing llama-server; report it instead")
  boolean noBuild;

  @Option(names = "--cache-dir", description = "Engine cache root (default $DALANG_CACHE or ~/.cache/dalang)")
  Path cacheDir;

  @Spec CommandSpec spec;

  private int failures;
  private PrintWriter out;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    var provisioner = new EngineProvisioner(cacheDir != null ? cacheDir : EngineProvisioner.defaultCacheRoot(), line -> out.println("    " + line));

    out.println("drivers");
    List<Device> cuda = GpuProbe.nvidiaSmi();
    report(true, "nvidia-smi: " + (cuda.isEmpty() ? "no NVIDIA GPU (or no driver)" : cuda.size() + " GPU(s)"));
    List<Device> vk = GpuProbe.vulkan();
    report(true, "vulkaninfo: " + (vk.isEmpty() ? "no Vulkan device (or no vulkan-tools / driver)"
        : vk.stream().map(d -> d.id() + " " + d.name() + (d.software() ? " (software)" : "")).toList()));

    List<Device> devices;
    try {
      devices = GpuProbe.probe(List.of(), backend);
    } catch (IllegalStateException e) {
      report(false, e.getMessage());
      return 1;
    }
    out.println("devices for backend " + backend);
    for (Device d : devices) {
      report(true, d.id() + ": " + d.name() + ", " + d.kind() + ", " + d.memoryTotalMib() + " MiB, " + d.memoryFreeMib() + " MiB free"
          + (d.memoryMeasured() ? " (live)" : ""));
    }

    out.println("toolchains and builds");
    Map<Backend, EngineEntry> builds = new LinkedHashMap<>();
    for (Device d : devices) builds.putIfAbsent(Backend.ofDeviceKind(d.kind()), null);
    for (Backend b : new ArrayList<>(builds.keySet())) {
      var missing = b.missingBuildPrerequisites();
      report(missing.isEmpty(), b.id() + " toolchain: " + (missing.isEmpty() ? "ok" : "missing " + String.join("; ", missing)));
      var cached = provisioner.lookup(EngineSource.DEFAULT, b);
      if (cached.isEmpty() && noBuild) {
        report(false, b.id() + " llama-server: not built (run without --no-build, or `dalang engine ensure llama-server --backend " + b.id() + "`)");
        continue;
      }
      try {
        EngineEntry e = cached.isPresent() ? cached.get() : provisioner.ensureLlamaServer(EngineSource.DEFAULT, b);
        boolean right = e.backendKind() == b;
        report(right, b.id() + " llama-server: " + e.version() + " (" + e.backend() + " build " + e.engineId()
            + (e.toolchain().isEmpty() ? "" : ", " + e.toolchain()) + ")" + (right ? "" : ": the " + b.id() + " build failed before"));
        if (right) builds.put(b, e);
      } catch (RuntimeException ex) {
        report(false, b.id() + " llama-server: " + ex.getMessage().lines().findFirst().orElse(""));
      }
    }

    out.println("one token on each device");
    Path model = Files.createTempFile("dalang-doctor", ".gguf");
    try {
      TinyModel.write(TinyModel.DEMO, model);
      for (Device d : devices) {
        Backend b = Backend.ofDeviceKind(d.kind());
        EngineEntry e = builds.get(b);
        if (e == null) {
          report(false, d.id() + ": no " + b.id() + " build to run");
          continue;
        }
        generateOne(provisioner, e, d, model);
      }
    } finally {
      Files.deleteIfExists(model);
    }
    out.println(failures == 0 ? "all checks passed" : failures + " check(s) failed");
    out.flush();
    return failures == 0 ? 0 : 1;
  }

  private void generateOne(EngineProvisioner provisioner, EngineEntry entry, Device d, Path model) throws Exception {
    Backend b = Backend.ofDeviceKind(d.kind());
    var gpu = b.gpu() ? new GpuBinding(b, d.index(), OffloadProfile.ALL_LAYERS) : GpuBinding.CPU;
    Path work = Files.createTempDirectory("dalang-doctor-" + d.id().replaceAll("[^A-Za-z0-9]", "_"));
    var cfg = new EngineConfig(model, 256, 1, 2, Duration.ofSeconds(300), work, false, List.of(), gpu);
    long t0 = System.nanoTime();
    try (var engine = provisioner.llamaServer(entry, cfg)) {
      engine.start();
      var run = Generations.run(engine, new GenerationRequest("run_doctor", "Hello", null, 1, 0.0, 1.0, 1L, List.of()), Duration.ofSeconds(120));
      var o = engine.offload();
      boolean offloaded = !b.gpu() || o.layersOffloaded() > 0 && o.layersOffloaded() == o.layersTotal();
      report(run.ended() && offloaded, d.id() + ": " + (run.ended() ? "generated 1 token" : "generation failed: " + run.last())
          + (b.gpu() ? ", " + o.layersOffloaded() + "/" + o.layersTotal() + " layers on " + (o.device().isEmpty() ? "no device" : o.device())
              + String.format(" (%.1f MiB there)", o.deviceMib()) : ", on the CPU")
          + " in " + (System.nanoTime() - t0) / 1_000_000 + " ms (start included; see " + work.resolve("llama-server.log") + ")");
    } catch (RuntimeException ex) {
      report(false, d.id() + ": the engine did not start: " + ex.getMessage().lines().findFirst().orElse("") + " (see "
          + work.resolve("llama-server.log") + ")");
    }
  }

  private void report(boolean ok, String what) {
    if (!ok) failures++;
    out.println("  " + (ok ? "ok    " : "FAIL  ") + what);
    out.flush();
  }
}
