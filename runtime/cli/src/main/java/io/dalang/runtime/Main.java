package io.dalang.runtime;

import io.dalang.runtime.cli.AuditCommand;
import io.dalang.runtime.cli.EngineCommand;
import io.dalang.runtime.cli.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dalang}: the one entry point for serving, provisioning engines and benchmarks. */
@Command(name = "dalang", mixinStandardHelpOptions = true, version = "dalang 0.1.0",
    description = "Actor-based distributed runtime for LLM inference.",
    subcommands = {ServeCommand.class, io.dalang.runtime.cli.NodeCommand.class, io.dalang.runtime.cli.ClusterCommand.class, io.dalang.runtime.cli.StatusCommand.class, AuditCommand.class,
        EngineCommand.class, io.dalang.runtime.bench.BenchCommand.class, io.dalang.runtime.sim.SimCommand.class,
        io.dalang.runtime.cli.ModelCommand.class, io.dalang.runtime.cli.PoolCommand.class, io.dalang.runtime.sweep.SweepCommand.class, io.dalang.runtime.kpi.KpiCommand.class,
        io.dalang.runtime.compare.CompareCommand.class, io.dalang.runtime.baseline.BaselineCommand.class,
        io.dalang.runtime.cli.DlqCommand.class, io.dalang.runtime.determinism.DeterminismCommand.class})
public final class Main implements Runnable {

  /** The JDK's system property for the common {@link java.util.concurrent.ForkJoinPool}'s size. */
  static final String COMMON_POOL_PARALLELISM = "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // Pekko's Java API hands out CompletableFutures made from Scala futures, and those run every
    // callback asynchronously (pipeToSelf, ask, completeWithFuture): on the common pool, but where that
    // pool has fewer than 2 threads (cores - 1 on a 2-core node) on a new thread per callback, several
    // per request. Two threads at least keep them on the pool. Must run before the pool is first used.
    if (System.getProperty(COMMON_POOL_PARALLELISM) == null) {
      System.setProperty(COMMON_POOL_PARALLELISM, String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
    int rc = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    // The in-process engine's native library leaves a non-daemon thread behind: exit explicitly.
    System.exit(rc);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
