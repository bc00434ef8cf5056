package io.dalang.runtime.cli;

import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.NodeOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalang node}: runs a GPU node that joins a cluster and hosts the model slots placed on it. */
@Command(name = "node", mixinStandardHelpOptions = true, subcommands = {NodeDrainCommand.class, NodeDoctorCommand.class},
    description = "Run a GPU node: join the cluster through its control nodes, register this node's devices and run the "
        + "model slots placed on it. No HTTP or gRPC API, no journal. Ctrl-C (or `dalang node drain`) drains its slots first.")
public final class NodeCommand implements Callable<Integer> {

  // Checked in call(), not by picocli: `dalang node drain` needs none of these.
  @Option(names = "--join", split = ",", paramLabel = "HOST:PORT",
      description = "Cluster address(es) of control nodes (their --cluster-port), comma separated; required")
  List<String> join;

  @Option(names = "--cluster-port", description = "This node's Pekko cluster port (default 25520; 0 picks a free one)")
  Integer clusterPort;

  @Option(names = "--data-dir", description = "Node id, engine work dirs and logs (default ./data)")
  Path dataDir;

  @Option(names = "--devices", paramLabel = "SPEC",
      description = "Devices instead of probing: id:kind:MiB[:index], comma separated, kind cpu, cuda or vulkan (e.g. cpu0:cpu:4096)")
  String devices;

  @Option(names = "--config", description = "HOCON file whose keys override the defaults")
  Path config;

  @Option(names = "--backend", paramLabel = "auto|cpu|vulkan|cuda",
      description = "Devices to serve from (dalang.engine.backend, default auto: CUDA, else hardware Vulkan, else CPU); "
          + "vulkan also takes software devices such as lavapipe")
  String backend;

  @Option(names = "--cluster-tls", paramLabel = "DIR",
      description = "This node's cluster certificate (ca.crt, tls.crt, tls.key) from `dalang cluster certs issue` "
          + "(dalang.cluster.tls-dir; default <data-dir>/cluster-tls)")
  Path clusterTls;

  @Override
  public Integer call() throws Exception {
    if (config != null && !config.toFile().isFile()) {
      System.err.println("dalang node: --config " + config + " does not exist");
      return 2;
    }
    NodeOptions opts;
    try {
      opts = new NodeOptions(join, clusterPort, dataDir, devices, config, backend, clusterTls);
    } catch (IllegalArgumentException e) {
      System.err.println("dalang node: " + e.getMessage());
      return 2;
    }
    DalangNode node;
    try {
      node = DalangNode.startNode(opts);
    } catch (IllegalStateException e) { // no cluster certificate, or the cluster did not let it in: the message says what to do
      System.err.println("dalang node: " + e.getMessage());
      return 1;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(node::close, "dalang-shutdown"));
    System.out.println("Dalang node " + node.nodeId() + " is running (data in " + node.dataDir() + "). Ctrl-C stops it.");
    // Also returns when the cluster downs this node (coordinated shutdown terminates the actor system).
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
