package io.dalang.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downloader against a real HTTPS server with a self-signed certificate made by the JDK's
 * {@code keytool}: the pinned fingerprint is the only thing that makes it trusted.
 */
class BlobDownloaderHttpsTest {
  static final char[] PASSWORD = "changeit".toCharArray();

  @TempDir Path dir;
  HttpsServer server;
  ExecutorService executor;
  BlobStore store;
  String pin;

  @BeforeEach
  void start() throws Exception {
    Path keystore = dir.resolve("server.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost",
        "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(),
        "-storepass", "changeit", "-keypass", "changeit").redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes());
    assertTrue(keytool.waitFor(60, TimeUnit.SECONDS) && keytool.exitValue() == 0, output);

    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, PASSWORD);
    }
    pin = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(ks.getCertificate("server").getEncoded()));
    var kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, PASSWORD);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);

    store = new BlobStore(dir.resolve("store"));
    executor = Executors.newCachedThreadPool();
    server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(ctx));
    server.setExecutor(executor);
    server.createContext("/blob", ex -> {
      ex.sendResponseHeaders(200, BlobDownloaderTest.DATA.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(BlobDownloaderTest.DATA);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  private BlobStore.Stored fetch(String pinned) throws Exception {
    var url = URI.create("https://127.0.0.1:" + server.getAddress().getPort() + "/blob");
    var r = new BlobDownloader.Request(url, BlobDownloaderTest.SHA, -1, null, true, pinned, 1L << 30);
    return new BlobDownloader(store, Duration.ofSeconds(10), 2).fetch(r, null);
  }

  @Test
  void thePinnedCertificateIsAccepted() throws Exception {
    assertEquals(BlobDownloaderTest.SHA, fetch(pin).sha256());
  }

  @Test
  void aPinWrittenWithColonsInUpperCaseIsTheSamePin() throws Exception {
    String colons = String.join(":", pin.toUpperCase(Locale.ROOT).split("(?<=\\G..)"));
    assertEquals(BlobDownloaderTest.SHA, fetch(colons).sha256());
  }

  @Test
  void aWrongPinIsRefused() {
    var e = assertThrows(BlobFetchRefusedException.class, () -> fetch("0".repeat(64)));
    assertTrue(e.getMessage().contains("pinned"), e.getMessage());
    assertFalse(store.contains(BlobDownloaderTest.SHA));
  }

  @Test
  void withoutAPinASelfSignedCertificateIsNotTrusted() {
    var e = assertThrows(BlobFetchRefusedException.class, () -> fetch(null));
    assertTrue(e.getMessage().contains("not trusted"), e.getMessage());
    assertFalse(store.contains(BlobDownloaderTest.SHA));
  }
}
