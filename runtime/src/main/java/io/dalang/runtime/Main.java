package io.dalang.runtime;

import io.dalang.runtime.cli.AuditCommand;
import io.dalang.runtime.cli.EngineCommand;
import io.dalang.runtime.cli.ServeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dalang}: the one entry point for serving, provisioning engines and benchmarks. */
@Command(name = "dalang", mixinStandardHelpOptions = true, version = "dalang 0.1.0",
    description = "Actor-based distributed runtime for LLM inference.",
    subcommands = {ServeCommand.class, io.dalang.runtime.cli.NodeCommand.class, io.dalang.runtime.cli.StatusCommand.class, AuditCommand.class,
        EngineCommand.class, io.dalang.runtime.bench.BenchCommand.class, io.dalang.runtime.sim.SimCommand.class,
        io.dalang.runtime.cli.ModelCommand.class, io.dalang.runtime.sweep.SweepCommand.class, io.dalang.runtime.kpi.KpiCommand.class,
        io.dalang.runtime.compare.CompareCommand.class, io.dalang.runtime.baseline.BaselineCommand.class,
        io.dalang.runtime.cli.DlqCommand.class, io.dalang.runtime.determinism.DeterminismCommand.class})
public final class Main implements Runnable {

  public static void main(String[] args) {
    int rc = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    // The in-process engine's native library leaves a non-daemon thread behind: exit explicitly.
    System.exit(rc);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
