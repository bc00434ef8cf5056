package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import io.dalang.grpc.v1.ChatMessage;
import io.dalang.grpc.v1.GenerateRequest;
import io.dalang.grpc.v1.InferenceClient;
import io.dalang.grpc.v1.Messages;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.tls.Certificates;
import io.dalang.runtime.tls.ClusterTls;
import io.dalang.runtime.tls.EdgeTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with {@code dalang.http.tls = self-signed}: the official OpenAI client trusting the generated
 * CA completes a chat over HTTPS, gRPC runs over TLS for a Java client trusting the CA, and clients that
 * do not trust it, or speak plain HTTP to the TLS port, are refused without harming the node.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeTlsEndToEndTest {
  @TempDir static Path data;
  DalangNode node;
  String key;
  Path ca;
  SSLContext trustingCa;

  @BeforeAll
  void start() throws Exception {
    key = "tls-" + Long.toHexString(System.nanoTime());
    Path conf = data.resolve("tls.conf");
    Files.writeString(conf, "dalang.http.tls = self-signed\n");
    node = DalangNode.start(new ServeOptions(data.resolve("node"), 0, null, 0, conf, null, key), System.out);
    ca = data.resolve("node").resolve("http-tls").resolve(ClusterTls.CA_CERT);
    trustingCa = SSLContext.getInstance("TLS");
    trustingCa.init(null, Certificates.trustManagers(Certificates.readCertificates(ca)), null);
    https().awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  ApiClient https() {
    return new ApiClient(URI.create("https://127.0.0.1:" + node.httpPort()), key, trustingCa);
  }

  @Test
  void theOfficialOpenAiClientTrustingTheCaCompletesAChatOverHttps() throws Exception {
    Assumptions.assumeTrue(OpenAiClientCompatibilityTest.onPath("node") && OpenAiClientCompatibilityTest.onPath("npm"),
        "needs node and npm (.ci/run installs them)");
    Path dir = OpenAiClientCompatibilityTest.clientDir();
    JsonNode r = OpenAiClientCompatibilityTest.check(dir, "https://localhost:" + node.httpPort() + "/v1", key,
        Map.of("NODE_EXTRA_CA_CERTS", ca.toString()));
    assertEquals("length", r.at("/chat/finish").asText(), r.toString());
    assertEquals(16, r.at("/chat/usage/completion_tokens").asInt(), r.toString());
    assertEquals(r.at("/chat/text").asText(), r.at("/stream/text").asText(), "streamed and whole answers agree");
    assertEquals(401, r.at("/badKey/status").asInt());
  }

  @Test
  void aClientThatDoesNotTrustTheCaIsRefused() {
    var untrusting = new ApiClient(URI.create("https://127.0.0.1:" + node.httpPort()), key, null);
    var e = assertThrows(IOException.class, () -> untrusting.get("/healthz"));
    assertTrue(e instanceof SSLHandshakeException || e.getCause() instanceof SSLHandshakeException, String.valueOf(e));
  }

  @Test
  void plainHttpToTheTlsPortGetsNoAnswerAndTheNodeGoesOn() throws Exception {
    for (int port : List.of(node.httpPort(), node.grpcPort())) {
      try (var s = new Socket("127.0.0.1", port)) {
        s.setSoTimeout(10_000);
        s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        var got = new ByteArrayOutputStream();
        try {
          s.getInputStream().transferTo(got); // until the server closes the connection
        } catch (IOException e) {
          // reset: closed as well
        }
        String answer = got.toString(StandardCharsets.ISO_8859_1);
        assertFalse(answer.contains("HTTP/1.1"), "no HTTP answer in plain text on port " + port + ": " + answer);
      }
    }
    assertEquals(200, https().get("/healthz").statusCode(), "the node still serves HTTPS");
  }

  @Test
  void grpcRunsOverTlsForAClientTrustingTheCa() throws Exception {
    var clientSystem = ActorSystem.create(Behaviors.empty(), "grpc-tls-client");
    try {
      var settings = GrpcClientSettings.connectToServiceAt("127.0.0.1", node.grpcPort(), clientSystem).withTls(true)
          .withTrustManager(Certificates.trustManagers(Certificates.readCertificates(ca))[0]);
      var inference = InferenceClient.create(settings, clientSystem);
      try {
        var request = GenerateRequest.newBuilder().setModel("dalang-demo").setMaxTokens(6).setTemperature(0)
            .setChat(Messages.newBuilder().addMessages(ChatMessage.newBuilder().setRole("user").setContent("Tell me about rivers"))).build();
        var reply = inference.complete().addHeader("authorization", "Bearer " + key).invoke(request).toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertEquals(6, reply.getUsage().getCompletionTokens(), reply.toString());
      } finally {
        inference.close();
      }
    } finally {
      clientSystem.terminate();
    }
  }

  @Test
  void cliCommandsReachTheNodeOverHttpsTrustingItsLocalCa() {
    var status = io.dalang.runtime.testing.DalangCli.dalang("status", "--data-dir", data.resolve("node").toString());
    assertEquals(0, status.code(), status.out() + status.err());
    assertTrue(status.out().contains("Tenant"), status.out());
  }

  @Test
  void operatorFilesServeAndABadKeyFileIsNamedNotQuoted() throws Exception {
    Path dir = PrivateFiles.createDirectories(data.resolve("files"));
    var issuer = Certificates.newAuthority("test CA", Duration.ofDays(1));
    var server = Certificates.issue(issuer, "server", List.of("localhost"), List.of("127.0.0.1"), Duration.ofDays(1));
    Certificates.writeCertificate(dir.resolve("server.crt"), server.cert());
    Certificates.writeKey(dir.resolve("server.key"), server.key());
    var settings = Map.<String, Object>of("dalang.data-dir", dir.toString(), "dalang.http.tls", "files",
        "dalang.http.tls-cert-file", "server.crt", "dalang.http.tls-key-file", "server.key");
    assertTrue(serverContext(ConfigFactory.parseMap(settings).withFallback(ConfigFactory.load())).isPresent());

    String marker = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC-secret-marker";
    Files.writeString(dir.resolve("bad.key"), "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----\n");
    var bad = ConfigFactory.parseMap(Map.of("dalang.http.tls-key-file", "bad.key")).withFallback(ConfigFactory.parseMap(settings))
        .withFallback(ConfigFactory.load());
    var e = assertThrows(IOException.class, () -> serverContext(bad));
    assertTrue(e.getMessage().contains("bad.key"), e.getMessage());
    assertFalse(e.getMessage().contains("secret-marker"), "the key file's content is not quoted: " + e.getMessage());
  }

  private static java.util.Optional<org.apache.pekko.http.javadsl.HttpsConnectionContext> serverContext(com.typesafe.config.Config c)
      throws IOException {
    var s = Settings.from(c);
    return EdgeTls.serverContext(s.control().edgeTls(), s.dataDir(), s.control().httpHost(), s.control().grpcHost());
  }
}
