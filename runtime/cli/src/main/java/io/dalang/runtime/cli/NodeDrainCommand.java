package io.dalang.runtime.cli;

import io.dalang.runtime.serve.DalangNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang node drain}: asks the GPU node running on a data dir to leave gracefully (SIGTERM): its
 * slots take no new runs, their runs finish, the node leaves the cluster and the pools place its
 * replicas elsewhere. Waits until the process has exited.
 */
@Command(name = "drain", mixinStandardHelpOptions = true,
    description = "Drain the GPU node running on this machine with --data-dir D and let it leave the cluster.")
public final class NodeDrainCommand implements Callable<Integer> {

  @Option(names = "--data-dir", description = "The node's data dir (default ./data)")
  Path dataDir = Path.of("data");

  @Option(names = "--timeout", paramLabel = "SECONDS", description = "How long to wait for the node to exit (default 120)")
  long timeoutSeconds = 120;

  @Override
  public Integer call() throws Exception {
    Path pidFile = DalangNode.pidFile(dataDir);
    if (!Files.isRegularFile(pidFile)) {
      System.err.println("dalang node drain: no node runs on " + dataDir + " (" + pidFile + " is missing)");
      return 1;
    }
    long pid = Long.parseLong(Files.readString(pidFile).strip());
    var process = ProcessHandle.of(pid).orElse(null);
    if (process == null || !process.isAlive()) {
      System.err.println("dalang node drain: process " + pid + " of " + pidFile + " is not running");
      return 1;
    }
    System.out.println("Draining node process " + pid + ": its slots finish their runs, then it leaves the cluster...");
    process.destroy(); // SIGTERM: the node's coordinated shutdown drains its slots first
    try {
      process.onExit().get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      System.err.println("dalang node drain: process " + pid + " still runs after " + timeoutSeconds + " s");
      return 1;
    }
    System.out.println("Node process " + pid + " drained and left the cluster.");
    return 0;
  }
}
