package io.dalang.runtime.cli;

import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalang serve}: runs a control node with its own engines until stopped ({@link StopOnSignal}). */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run Dalang: a single-node cluster on embedded H2, the demo tenant and model, and the HTTP API.")
public final class ServeCommand implements Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

  @Option(names = "--http-port", description = "HTTP port (default 8080; 0 picks a free one)")
  Integer httpPort;

  @Option(names = "--grpc-port", description = "gRPC port (default 8081)")
  Integer grpcPort;

  @Option(names = "--cluster-port", description = "Pekko cluster port (default 25520; 0 picks a free one)")
  Integer clusterPort;

  @Option(names = "--data-dir", description = "Journal, models, keys and run records (default ./data)")
  Path dataDir;

  @Option(names = "--config", description = "HOCON file whose keys override the defaults")
  Path config;

  @Option(names = "--engine", description = "Engine of the demo pool: llama-inprocess (default), llama-server or simulated (no model file)")
  String engine;

  @Option(names = "--backend", paramLabel = "auto|cpu|vulkan|cuda",
      description = "Devices to serve from (dalang.engine.backend, default auto: CUDA, else hardware Vulkan, else CPU); "
          + "vulkan also takes software devices such as lavapipe. A GPU backend needs --engine llama-server")
  String backend;

  @Override
  public Integer call() throws Exception {
    if (config != null && !config.toFile().isFile()) {
      System.err.println("dalang serve: --config " + config + " does not exist");
      return 2;
    }
    // No --data-dir: dalang.data-dir from --config, DALANG_DATA_DIR, or ./data (config/dalang.conf).
    if (backend != null && !io.dalang.runtime.serve.NodeOptions.BACKENDS.contains(backend)) {
      System.err.println("dalang serve: --backend must be one of " + io.dalang.runtime.serve.NodeOptions.BACKENDS + ", got '" + backend + "'");
      return 2;
    }
    if (backend != null && !backend.equals("auto") && !backend.equals("cpu") && !"llama-server".equals(engine)) {
      System.err.println("dalang serve: --backend " + backend + " needs --engine llama-server (the in-process engine runs on the CPU only)");
      return 2;
    }
    var opts = new ServeOptions(dataDir, httpPort, grpcPort, clusterPort, config, engine, null, backend);
    DalangNode node = DalangNode.start(opts, System.out);
    StopOnSignal.install(node.system());
    Runtime.getRuntime().addShutdownHook(new Thread(node::close, "dalang-shutdown")); // other exits (System.exit)
    var edges = node.settings().control();
    System.out.println("Dalang is serving on " + (edges.edgeTls().on() ? "https" : "http") + "://" + edges.httpHost() + ":"
        + node.httpPort() + "/v1 (" + (node.nodeId() != null ? "node " + node.nodeId() : "control node")
        + ", data in " + node.dataDir() + "). Ctrl-C stops it.");
    node.system().getWhenTerminated().toCompletableFuture().join();
    log.info("stopped");
    return 0;
  }
}
