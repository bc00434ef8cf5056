package io.dalang.runtime.cli;

import io.dalang.runtime.tls.ClusterTls;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalang cluster}: the cluster's own housekeeping; today its TLS certificates. */
@Command(name = "cluster", mixinStandardHelpOptions = true, subcommands = ClusterCommand.Certs.class,
    description = "Cluster housekeeping: certificates for the cluster transport's mutual TLS.")
public final class ClusterCommand implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** {@code dalang cluster certs}. */
  @Command(name = "certs", mixinStandardHelpOptions = true, subcommands = Issue.class,
      description = "Certificates of the cluster CA (made by the control node that forms the cluster, in <data-dir>/cluster-tls).")
  public static final class Certs implements Runnable {
    @Override
    public void run() {
      new CommandLine(this).usage(System.out);
    }
  }

  /** {@code dalang cluster certs issue}: a certificate for a joining node, signed by the cluster CA. */
  @Command(name = "issue", mixinStandardHelpOptions = true,
      description = "Issue a certificate for a node that joins the cluster: writes ca.crt, tls.crt and tls.key (0600) to --out; "
          + "copy that folder to the node and start it with `dalang node --cluster-tls DIR`.")
  public static final class Issue implements Callable<Integer> {
    @Option(names = "--ca-dir", required = true, paramLabel = "DIR",
        description = "The cluster CA: <data-dir>/cluster-tls of the control node that formed the cluster (holds ca.key)")
    Path caDir;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the node's files (created 0700)")
    Path out;

    @Option(names = "--name", required = true, paramLabel = "NODE", description = "The node's name in its certificate (CN)")
    String name;

    @Override
    public Integer call() throws Exception {
      try {
        ClusterTls.issue(caDir, out, name);
      } catch (IllegalArgumentException e) {
        System.err.println("dalang cluster certs issue: " + e.getMessage());
        return 2;
      }
      System.out.println("Issued a cluster certificate for " + name + " in " + out + " (ca.crt, tls.crt, tls.key). "
          + "Start the node with --cluster-tls " + out + ".");
      return 0;
    }
  }
}
