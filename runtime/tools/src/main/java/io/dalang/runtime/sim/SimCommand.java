package io.dalang.runtime.sim;

import picocli.CommandLine.Command;

/** {@code dalang sim ...}: the control plane at sizes this machine cannot host for real. */
@Command(name = "sim", mixinStandardHelpOptions = true, description = "Simulations of the control plane (no engines).",
    subcommands = {FleetSim.class})
public final class SimCommand {}
