package io.dalang.runtime.sim;

import picocli.CommandLine.Command;

/** {@code dalang sim ...}: the control plane at sizes this machine cannot host for real, and an engine that needs no GPU. */
@Command(name = "sim", mixinStandardHelpOptions = true, description = "Simulations: the control plane at fleet size, and a simulated engine.",
    subcommands = {FleetSim.class, SimEngineCommand.class})
public final class SimCommand {}
