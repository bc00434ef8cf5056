package io.dalang.runtime.bench;

import picocli.CommandLine.Command;

/** {@code dalang bench ...}: benchmarks that print ratios against a baseline measured in the same run. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Benchmarks (not tests).",
    subcommands = {OverheadBench.class, SchedulerBench.class, OffloadBench.class, LoadBench.class, GatewayBench.class})
public final class BenchCommand {}
