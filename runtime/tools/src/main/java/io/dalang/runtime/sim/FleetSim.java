package io.dalang.runtime.sim;

import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.placement.SlotFeasibility;
import io.dalang.protocols.node.Device;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang sim fleet}: registers simulated GPU nodes through the same protocol a real node agent
 * uses ({@code ExecutorEntity.RegisterExecutor}, persisted to the journal, sharded), without engines,
 * then places model replicas over every simulated device with the same feasibility filter slots use.
 * Reports registration throughput and latency, heap per node entity, and placement latency at fleet size.
 */
@Command(name = "fleet", mixinStandardHelpOptions = true,
    description = "Register simulated GPU nodes (no engines) and place replicas over them, at fleet size.")
public final class FleetSim implements Callable<Integer> {
  @Option(names = "--nodes", defaultValue = "1000", description = "Simulated nodes (default: ${DEFAULT-VALUE})")
  int nodes;

  @Option(names = "--gpus-per-node", defaultValue = "8", description = "Simulated GPUs per node (default: ${DEFAULT-VALUE})")
  int gpus;

  @Option(names = "--replicas", defaultValue = "1000", description = "Replicas to place over the fleet afterwards (default: ${DEFAULT-VALUE})")
  int replicas;

  @Option(names = "--parallelism", defaultValue = "32", description = "Registrations in flight at once (default: ${DEFAULT-VALUE})")
  int parallelism;

  @Option(names = "--json", description = "Print one JSON object")
  boolean json;

  @Option(names = "--verbose", description = "Show the node's own logs")
  boolean verbose;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (nodes < 1 || gpus < 1 || parallelism < 1 || replicas < 0) {
      System.err.println("dalang sim fleet: --nodes, --gpus-per-node and --parallelism must be at least 1");
      return 2;
    }
    if (!verbose) io.dalang.runtime.cli.QuietLogs.install();
    Path dir = Files.createTempDirectory("dalang-sim-");
    Path conf = dir.resolve("sim.conf");
    // No demo pool, no local engines: the only executors are the simulated ones (plus this node's own).
    Files.writeString(conf, "dalang.demo.enabled = false\ndalang.node.devices = [{ id = cpu0, kind = cpu, memory-total-mib = 1024 }]\n");
    try (DalangNode node = DalangNode.start(new ServeOptions(dir.resolve("data"), 0, null, 0, conf, null, null),
        new PrintStream(OutputStream.nullOutputStream()))) {
      var result = run(node);
      var out = spec.commandLine().getOut();
      out.println(json ? result.json() : result.table());
      out.flush();
      return 0;
    } finally {
      io.dalang.runtime.sweep.SweepCommand.deleteTree(dir); // survives the stopping node deleting its serve.url meanwhile
    }
  }

  record Result(int nodes, int gpus, double seconds, double perSecond, double p50Ms, double p99Ms, long heapPerNodeBytes,
      int replicas, double placeP50Us, double placeP99Us, int placed) {
    String table() {
      return String.format(Locale.ROOT, """
          Simulated fleet: %d nodes x %d GPUs = %d devices, registered through ExecutorEntity (journaled)

          registration                 %10.1f nodes/s   (%.1f s for all)
          registration latency p50     %10.2f ms
          registration latency p99     %10.2f ms
          heap per node entity         %10.1f KiB   (live heap after GC, divided by nodes)
          replica placement p50        %10.1f us   (%d replicas over %d candidate devices, feasibility + choice)
          replica placement p99        %10.1f us
          replicas placed              %10d
          """, nodes, gpus, nodes * gpus, perSecond, seconds, p50Ms, p99Ms, heapPerNodeBytes / 1024.0, placeP50Us, replicas, nodes * gpus,
          placeP99Us, placed);
    }

    String json() {
      return String.format(Locale.ROOT, "{\"nodes\":%d,\"gpus_per_node\":%d,\"registration_seconds\":%.3f,\"registrations_per_second\":%.1f,"
          + "\"registration_p50_ms\":%.3f,\"registration_p99_ms\":%.3f,\"heap_per_node_bytes\":%d,\"replicas\":%d,"
          + "\"placement_p50_us\":%.1f,\"placement_p99_us\":%.1f,\"placed\":%d}", nodes, gpus, seconds, perSecond, p50Ms, p99Ms,
          heapPerNodeBytes, replicas, placeP50Us, placeP99Us, placed);
    }
  }

  private Result run(DalangNode node) throws Exception {
    var system = node.system();
    var sharding = ClusterSharding.get(system);
    long heapBefore = liveHeap();
    var latencies = new double[nodes];
    System.err.printf("sim: registering %d nodes x %d GPUs%n", nodes, gpus);
    long t0 = System.nanoTime();
    var views = Source.range(0, nodes - 1).mapAsyncUnordered(parallelism, i -> {
      String id = String.format("sim-node-%05d", i);
      long s = System.nanoTime();
      return sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, id)
          .<ExecutorEntity.ExecutorView>askWithStatus(r -> new ExecutorEntity.RegisterExecutor("pekko://dalang@10.0." + (i / 250) + "." + (i % 250)
              + ":25520", devices(i), r), Duration.ofSeconds(30))
          .thenApply(v -> {
            latencies[i] = (System.nanoTime() - s) / 1e6;
            return v;
          });
    }).runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.MINUTES);
    double seconds = (System.nanoTime() - t0) / 1e9;
    long heapAfter = liveHeap();
    Arrays.sort(latencies);

    var candidates = new ArrayList<SlotFeasibility.Candidate>();
    for (var v : views) for (Device d : v.devices()) candidates.add(new SlotFeasibility.Candidate(v.nodeId(), d));
    var requirements = new SlotFeasibility.Requirements(20_000, "8.0", false, Set.of());
    var reserved = new HashMap<String, Long>();
    var placeUs = new double[replicas];
    int placed = 0;
    System.err.printf("sim: placing %d replicas over %d devices%n", replicas, candidates.size());
    for (int r = 0; r < replicas; r++) {
      long s = System.nanoTime();
      try {
        var c = SlotFeasibility.placeOrExplain("replica " + r, requirements, candidates, Set.of(), reserved);
        reserved.merge(SlotFeasibility.deviceKey(c), requirements.memoryMib(), Long::sum);
        placed++;
      } catch (io.dalang.protocols.error.DalangException full) {
        // the fleet is full: the typed error is the answer
      }
      placeUs[r] = (System.nanoTime() - s) / 1e3;
    }
    Arrays.sort(placeUs);
    return new Result(nodes, gpus, seconds, nodes / seconds, pct(latencies, 50), pct(latencies, 99),
        Math.max(0, heapAfter - heapBefore) / nodes, replicas, pct(placeUs, 50), pct(placeUs, 99), placed);
  }

  private List<Device> devices(int node) {
    var out = new ArrayList<Device>();
    for (int g = 0; g < gpus; g++) {
      // Mixed generations: most nodes H100-class, every fifth an older A10-class card.
      boolean old = node % 5 == 4;
      out.add(new Device("gpu" + g, Device.CUDA, g, old ? "NVIDIA A10" : "NVIDIA H100 80GB HBM3", old ? 23_028 : 81_559,
          old ? 22_000 : 80_000, old ? "8.6" : "9.0"));
    }
    return out;
  }

  private static double pct(double[] sorted, double p) {
    if (sorted.length == 0) return 0;
    return sorted[Math.min(sorted.length - 1, Math.max(0, (int) Math.ceil(p / 100 * sorted.length) - 1))];
  }

  private static long liveHeap() throws InterruptedException {
    var mem = ManagementFactory.getMemoryMXBean();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    return mem.getHeapMemoryUsage().getUsed();
  }
}
