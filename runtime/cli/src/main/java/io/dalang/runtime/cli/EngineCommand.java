package io.dalang.runtime.cli;

import io.dalang.engine.EngineHttp;
import io.dalang.engine.provision.Backend;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import io.dalang.gpu.GpuProbe;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dalang engine ensure llama-server}: provisions (or finds in the cache) an engine build. */
@Command(name = "engine", mixinStandardHelpOptions = true, description = "Provision inference engines.",
    subcommands = EngineCommand.Ensure.class)
public final class EngineCommand {

  @Command(name = "ensure", mixinStandardHelpOptions = true,
      description = "Build llama-server and llama-quantize from llama.cpp source into the cache, unless already there.")
  static final class Ensure implements Callable<Integer> {
    @Parameters(index = "0", description = "Engine to ensure: llama-server")
    String engine;

    @Option(names = "--source", description = "npm:PKG@VERSION (default npm:node-llama-cpp@3.22.1), path:DIR or git:URL#REF")
    String source = EngineSource.DEFAULT.spec();

    @Option(names = "--cache-dir", description = "Cache root (default $DALANG_CACHE or ~/.cache/dalang)")
    Path cacheDir;

    @Option(names = "--backend", paramLabel = "cpu|vulkan|cuda|rocm|auto",
        description = "Build for this backend (default auto: the backend of this machine's devices, as `dalang node` probes them)")
    String backend = "auto";

    @Override
    public Integer call() throws Exception {
      if (!"llama-server".equals(engine)) {
        System.err.println("dalang engine ensure: only llama-server can be provisioned (llama-inprocess ships inside Dalang)");
        return 2;
      }
      EngineSource src;
      try {
        src = EngineSource.parse(source);
      } catch (IllegalArgumentException e) {
        System.err.println("dalang engine ensure: " + e.getMessage());
        return 2;
      }
      Backend b;
      try {
        b = "auto".equals(backend) ? Backend.ofDeviceKind(GpuProbe.probe(java.util.List.of(), "auto").get(0).kind()) : Backend.parse(backend);
      } catch (IllegalArgumentException e) {
        System.err.println("dalang engine ensure: " + e.getMessage());
        return 2;
      }
      var p = new EngineProvisioner(cacheDir != null ? cacheDir : EngineProvisioner.defaultCacheRoot(), System.out::println);
      var entry = p.ensureLlamaServer(src, b);
      System.out.println(EngineHttp.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(entry));
      System.out.println("binary: " + p.binary(entry, "llama-server"));
      return 0;
    }
  }
}
