package io.dalang.runtime.tls;

import com.typesafe.config.Config;
import io.dalang.protocols.files.PrivateFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;
import org.apache.pekko.http.javadsl.ServerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS on the HTTP and gRPC edges ({@code dalang.http.tls}): {@code off}, {@code self-signed} (a local CA
 * made on first start in {@code <data-dir>/http-tls}, whose {@code ca.crt} clients trust; its key is not
 * kept) or {@code files} (a PEM certificate chain and key an operator provides). Both edges use the same
 * certificate.
 */
public final class EdgeTls {
  private static final Logger log = LoggerFactory.getLogger(EdgeTls.class);
  static final Duration SELF_SIGNED_VALIDITY = Duration.ofDays(825);

  private EdgeTls() {}

  /**
   * The edges' TLS keys.
   *
   * @param mode {@code dalang.http.tls}: off, self-signed or files
   * @param certFile {@code dalang.http.tls-cert-file}, relative to the data dir (mode files)
   * @param keyFile {@code dalang.http.tls-key-file}, relative to the data dir (mode files)
   */
  public record Settings(String mode, String certFile, String keyFile) {
    public static Settings from(Config config) {
      return new Settings(config.getString("dalang.http.tls"), config.getString("dalang.http.tls-cert-file"),
          config.getString("dalang.http.tls-key-file"));
    }

    /** Whether the edges speak TLS. */
    public boolean on() {
      return !mode.equals("off");
    }
  }

  /**
   * The server context for the edges listening on {@code httpHost} and {@code grpcHost}; empty when
   * {@code dalang.http.tls = off}.
   */
  public static Optional<HttpsConnectionContext> serverContext(Settings tls, Path dataDir, String httpHost, String grpcHost)
      throws IOException {
    Path cert;
    Path key;
    switch (tls.mode()) {
      case "off" -> {
        warnIfExposed("http", httpHost);
        warnIfExposed("grpc", grpcHost);
        return Optional.empty();
      }
      case "self-signed" -> {
        Path dir = selfSignedDir(dataDir);
        if (!Files.isRegularFile(dir.resolve(ClusterTls.CERT))) createSelfSigned(dir, List.of(httpHost, grpcHost));
        cert = dir.resolve(ClusterTls.CERT);
        key = dir.resolve(ClusterTls.KEY);
        log.info("edges: TLS with a self-signed certificate; clients trust {}", dir.resolve(ClusterTls.CA_CERT));
      }
      case "files" -> {
        cert = file(tls.certFile(), dataDir, "dalang.http.tls-cert-file");
        key = file(tls.keyFile(), dataDir, "dalang.http.tls-key-file");
        log.info("edges: TLS with the certificate in {}", cert);
      }
      default -> throw new IllegalArgumentException("dalang.http.tls must be off, self-signed or files, got '" + tls.mode() + "'");
    }
    try {
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(Certificates.keyManagers(Certificates.readKey(key), Certificates.readCertificates(cert)), null, null);
      return Optional.of(ConnectionContext.httpsServer(ctx));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("edge TLS: " + cert + " and " + key + " cannot serve TLS: " + e.getMessage(), e);
    }
  }

  /**
   * The SHA-256 (lower-case hex) of the edge's own certificate as served (DER), for nodes that pin it
   * when they pull model blobs from this node; empty when the edges speak plain HTTP. Call after
   * {@link #serverContext} (which creates a self-signed certificate on first start).
   */
  public static Optional<String> certificateSha256(Settings tls, Path dataDir) throws IOException {
    Path cert = switch (tls.mode()) {
      case "self-signed" -> selfSignedDir(dataDir).resolve(ClusterTls.CERT);
      case "files" -> file(tls.certFile(), dataDir, "dalang.http.tls-cert-file");
      default -> null;
    };
    if (cert == null) return Optional.empty();
    try {
      byte[] der = Certificates.readCertificates(cert).get(0).getEncoded();
      return Optional.of(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(der)));
    } catch (GeneralSecurityException e) {
      throw new IOException(cert + ": " + e.getMessage(), e);
    }
  }

  private static void warnIfExposed(String edge, String host) {
    if (!ClusterTls.isLoopback(host)) log.warn("the {} edge listens on {} in plain text (dalang.http.tls = off)", edge, host);
  }

  /** {@code server} with {@code tls} enabled when present. */
  public static ServerBuilder secure(ServerBuilder server, Optional<HttpsConnectionContext> tls) {
    return tls.map(server::enableHttps).orElse(server);
  }

  /** Where {@code self-signed} keeps its CA certificate and the server's key and certificate. */
  private static Path selfSignedDir(Path dataDir) {
    return dataDir.resolve("http-tls");
  }

  /**
   * For CLI commands that call the node serving {@code dataDir}: a client context trusting its
   * self-signed CA, when it has one; empty otherwise (plain HTTP, or operator files the JDK trusts).
   */
  public static Optional<SSLContext> localClientContext(Path dataDir) throws IOException {
    Path ca = selfSignedDir(dataDir).resolve(ClusterTls.CA_CERT);
    if (!Files.isRegularFile(ca)) return Optional.empty();
    try {
      var ctx = SSLContext.getInstance("TLS");
      ctx.init(null, Certificates.trustManagers(Certificates.readCertificates(ca)), null);
      return Optional.of(ctx);
    } catch (GeneralSecurityException e) {
      throw new IOException(ca + " cannot be trusted: " + e.getMessage(), e);
    }
  }

  private static Path file(String v, Path dataDir, String key) {
    if (v.isBlank()) throw new IllegalArgumentException(key + " must name a PEM file when dalang.http.tls = files");
    Path f = dataDir.resolve(v);
    if (!Files.isRegularFile(f)) throw new IllegalArgumentException(key + ": " + f + " does not exist");
    return f;
  }

  private static void createSelfSigned(Path dir, List<String> hosts) throws IOException {
    var dns = new ArrayList<>(Certificates.localDnsNames());
    var ips = new ArrayList<>(List.of("127.0.0.1", "::1"));
    for (String h : hosts) {
      if (h.equals("0.0.0.0") || h.equals("::")) continue; // every interface: the names above, plus what the operator adds
      boolean ip = h.contains(":") || h.matches("[0-9.]+");
      var into = ip ? ips : dns;
      if (!into.contains(h)) into.add(h);
    }
    PrivateFiles.createDirectories(dir);
    var ca = Certificates.newAuthority("Dalang local CA", SELF_SIGNED_VALIDITY);
    var server = Certificates.issue(ca, "dalang", dns, ips, SELF_SIGNED_VALIDITY);
    Certificates.writeCertificate(dir.resolve(ClusterTls.CA_CERT), ca.cert());
    Certificates.writeKey(dir.resolve(ClusterTls.KEY), server.key());
    Certificates.writeCertificate(dir.resolve(ClusterTls.CERT), server.cert());
    // The CA's key is dropped here: nothing else can be signed with it.
  }
}
