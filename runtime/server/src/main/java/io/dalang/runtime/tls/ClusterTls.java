package io.dalang.runtime.tls;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.files.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS on the cluster transport (Artery {@code tls-tcp}). Every node holds, in one folder, the
 * cluster CA's certificate ({@code ca.crt}) and its own key and certificate signed by that CA
 * ({@code tls.key}, {@code tls.crt}); Pekko's {@code RotatingKeysSSLEngineProvider} reads them, trusts
 * that CA only and asks every peer for its certificate, so a node without a certificate of this CA
 * cannot connect, let alone join. The CA's key ({@code ca.key}) stays with the control node that made it,
 * where {@code dalang cluster certs issue} signs certificates for joining nodes.
 */
public final class ClusterTls {
  private static final Logger log = LoggerFactory.getLogger(ClusterTls.class);

  public static final String CA_CERT = "ca.crt";
  public static final String CA_KEY = "ca.key";
  public static final String CERT = "tls.crt";
  public static final String KEY = "tls.key";
  /**
   * A subject name every node certificate carries: Pekko's provider accepts a peer only if it shares a
   * subject name with this node's certificate (besides the CA's signature).
   */
  static final String CLUSTER_NAME = "dalang-cluster";
  static final Duration CA_VALIDITY = Duration.ofDays(3650);
  static final Duration NODE_VALIDITY = Duration.ofDays(825);

  private ClusterTls() {}

  /**
   * The cluster transport's TLS keys.
   *
   * @param on {@code dalang.cluster.tls}
   * @param dir {@code dalang.cluster.tls-dir} against {@code dalang.data-dir}; {@code <data-dir>/cluster-tls} when empty
   */
  public record Settings(boolean on, Path dir) {
    public static Settings from(Config config) {
      String d = config.getString("dalang.cluster.tls-dir");
      Path dataDir = Path.of(config.getString("dalang.data-dir"));
      return new Settings(config.getBoolean("dalang.cluster.tls"),
          d.isBlank() ? dataDir.resolve("cluster-tls") : dataDir.resolve(d).toAbsolutePath().normalize());
    }
  }

  /**
   * {@code config} with the cluster transport switched to mutual TLS over the files in {@code tls.dir()},
   * or unchanged with {@code dalang.cluster.tls = off}. When the folder has no certificate and
   * {@code mayCreateAuthority} (the control node that forms the cluster), a new CA and this node's
   * certificate are made there first; otherwise a missing certificate fails the start with the command
   * that issues one.
   */
  public static Config apply(Config config, Settings tls, boolean mayCreateAuthority) throws IOException {
    if (!tls.on()) {
      String host = config.getString("pekko.remote.artery.canonical.hostname");
      if (!isLoopback(host)) {
        log.warn("cluster transport in plain TCP on {} (dalang.cluster.tls = off): anyone who reaches the cluster port can join", host);
      }
      return config;
    }
    Path dir = tls.dir();
    if (!Files.isRegularFile(dir.resolve(CERT))) {
      if (!mayCreateAuthority) {
        throw new IllegalStateException("no cluster certificate in " + dir + " (dalang.cluster.tls = on): on the control node run "
            + "`dalang cluster certs issue --ca-dir <its data dir>/cluster-tls --out DIR --name NAME`, copy DIR here and pass "
            + "--cluster-tls DIR (docs/operations.md, \"Cluster TLS\")");
      }
      createAuthority(dir, "control");
      log.info("cluster TLS: made a new cluster CA and this node's certificate in {}; issue certificates for joining nodes "
          + "with `dalang cluster certs issue --ca-dir {}`", dir, dir);
    }
    for (String f : List.of(CA_CERT, CERT, KEY)) {
      if (!Files.isRegularFile(dir.resolve(f))) throw new IllegalStateException("cluster TLS: " + dir.resolve(f) + " is missing");
    }
    String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
    return ConfigFactory.parseMap(Map.of(
        "pekko.remote.artery.transport", "tls-tcp",
        "pekko.remote.artery.ssl.ssl-engine-provider", "org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider",
        engine + "key-file", dir.resolve(KEY).toString(),
        engine + "cert-file", dir.resolve(CERT).toString(),
        engine + "ca-cert-file", dir.resolve(CA_CERT).toString())).withFallback(config);
  }

  /** Makes a new cluster CA in {@code dir} (created 0700) and a certificate for this node, {@code nodeName}. */
  public static void createAuthority(Path dir, String nodeName) throws IOException {
    PrivateFiles.createDirectories(dir);
    var ca = Certificates.newAuthority("Dalang cluster CA", CA_VALIDITY);
    Certificates.writeKey(dir.resolve(CA_KEY), ca.key());
    Certificates.writeCertificate(dir.resolve(CA_CERT), ca.cert());
    writeNode(ca, dir, nodeName);
  }

  /**
   * Issues a certificate for the node {@code nodeName} from the CA in {@code caDir} into {@code outDir}
   * (created 0700): {@code ca.crt}, {@code tls.crt}, {@code tls.key}, never the CA's key.
   */
  public static void issue(Path caDir, Path outDir, String nodeName) throws IOException {
    if (!nodeName.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,62}")) {
      throw new IllegalArgumentException("--name must be 1-63 letters, digits, dots or dashes, got '" + nodeName + "'");
    }
    if (!Files.isRegularFile(caDir.resolve(CA_KEY)) || !Files.isRegularFile(caDir.resolve(CA_CERT))) {
      throw new IllegalArgumentException(caDir + " holds no cluster CA (" + CA_CERT + " and " + CA_KEY
          + "); it is <data-dir>/cluster-tls of the control node that formed the cluster");
    }
    for (String f : List.of(CA_CERT, CERT, KEY)) {
      if (Files.exists(outDir.resolve(f))) throw new IllegalArgumentException(outDir.resolve(f) + " exists; give an empty --out folder");
    }
    var ca = new Certificates.Issued(Certificates.readKey(caDir.resolve(CA_KEY)), Certificates.readCertificates(caDir.resolve(CA_CERT)).get(0));
    PrivateFiles.createDirectories(outDir);
    Certificates.writeCertificate(outDir.resolve(CA_CERT), ca.cert());
    writeNode(ca, outDir, nodeName);
  }

  private static void writeNode(Certificates.Issued ca, Path dir, String nodeName) throws IOException {
    // No host names or addresses: the CA's signature is the identity (hostname verification is off in Pekko's provider).
    var node = Certificates.issue(ca, nodeName, List.of(CLUSTER_NAME, nodeName), List.of(), NODE_VALIDITY);
    Certificates.writeKey(dir.resolve(KEY), node.key());
    Certificates.writeCertificate(dir.resolve(CERT), node.cert());
  }

  static boolean isLoopback(String host) {
    return host.equals("localhost") || host.startsWith("127.") || host.equals("::1") || host.equals("[::1]");
  }
}
