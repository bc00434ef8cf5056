package io.dalang.runtime.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.chaos.ChaosPlan;
import io.dalang.runtime.testing.ApiClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attacks on the HTTP edge and on the admin API's answers, against a real node over loopback
 * (docs/security.md, "The HTTP edge"). The node runs with short edge timeouts and a small connection
 * cap so that each attack shows within seconds; attackers connect from other loopback addresses than
 * the test's own client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeEndToEndTest {
  static final String KEY = "edge-" + Long.toHexString(System.nanoTime());
  static final int CAP = 12;
  static final String CONFIG = """
      dalang.http.header-timeout = 2 s
      dalang.http.keep-alive-timeout = 3 s
      dalang.http.max-connections-per-address = %d
      dalang.http.sse-keep-alive = 1 s
      dalang.demo.parallel = 1
      dalang.admission.tenant-share = 2
      pekko.http.server.idle-timeout = 4 s
      """.formatted(CAP);
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}""";
  @TempDir static Path data;
  SecurityNode node;
  ApiClient admin;
  ApiClient tenant;

  @BeforeAll
  void start() throws Exception {
    node = SecurityNode.start(data, KEY, CONFIG);
    admin = node.admin();
    tenant = node.tenant();
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  /** Reads until the server closes; the time it took, or -1 if it had not closed after {@code limitMs}. */
  static long millisUntilClosed(Socket s, long limitMs) throws IOException {
    long start = System.nanoTime();
    s.setSoTimeout((int) limitMs);
    InputStream in = s.getInputStream();
    try {
      while (in.read() != -1) {
        // a response to a request that was never completed would be a bug of its own: keep reading
      }
    } catch (SocketTimeoutException e) {
      return -1;
    } catch (IOException reset) {
      // closed is closed; the assertion is on the time
    }
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
  }

  @Test
  void aClientSendingItsHeadersAByteASecondIsCutWithinTheHeaderTimeoutAndOthersAreServed() throws Exception {
    byte[] head = "GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer nobody-at-all\r\n\r\n"
        .getBytes(StandardCharsets.ISO_8859_1);
    try (var slow = new Socket(InetAddress.getLoopbackAddress(), node.port(), InetAddress.getByName("127.0.0.5"), 0)) {
      var sent = new AtomicInteger();
      var dripper = new Thread(() -> {
        try {
          OutputStream out = slow.getOutputStream();
          for (byte b : head) {
            out.write(b);
            out.flush();
            sent.incrementAndGet();
            Thread.sleep(1000);
          }
        } catch (IOException | InterruptedException closed) {
          // the server closed it: what the test waits for
        }
      });
      dripper.start();
      // Meanwhile the node serves others.
      assertEquals(200, tenant.get("/v1/models").statusCode());
      long closedAfter = millisUntilClosed(slow, 10_000);
      dripper.interrupt();
      assertTrue(closedAfter >= 0, "the slow client still held its connection after 10 s");
      assertTrue(closedAfter < 2_000 + 1_500, "closed only after " + closedAfter + " ms");
      assertTrue(sent.get() >= 2 && sent.get() < head.length, "the client was still sending: " + sent.get() + " bytes");
    }
    assertEquals(200, tenant.post("/v1/chat/completions", CHAT).statusCode());
  }

  @Test
  void aConnectionThatNeverSendsAnythingIsClosedAfterTheHeaderTimeout() throws Exception {
    try (var idle = new Socket(InetAddress.getLoopbackAddress(), node.port(), InetAddress.getByName("127.0.0.6"), 0)) {
      long closedAfter = millisUntilClosed(idle, 10_000);
      // By the header timeout (2 s), not Pekko's idle timeout (4 s).
      assertTrue(closedAfter >= 0 && closedAfter < 3_500, "closed after " + closedAfter + " ms");
    }
  }

  @Test
  void aStreamQueuedLongerThanTheIdleTimeoutGetsKeepAlivesAndCompletes() throws Exception {
    // The engine holds the first token back 6 s: longer than the idle timeout (4 s) and the keep-alive
    // timeout, so without the comments the connection would be cut before the first token.
    node.node().chaos().apply(ChaosPlan.parse(Map.of("seed", 1, "faults", List.of(
        Map.of("fault", "delay", "first_token_delay", "6 s", "count", 1)))), "test");
    try {
      String body = CHAT.replace("\"temperature\": 0", "\"temperature\": 0, \"stream\": true");
      var r = tenant.postStream("/v1/chat/completions", body);
      assertEquals(200, r.statusCode());
      String text = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
      long comments = text.lines().filter(l -> l.equals(": keep-alive")).count();
      assertTrue(comments >= 4, "keep-alive comments: " + comments + " in\n" + text);
      assertTrue(text.contains("\"content\""), text);
      assertTrue(text.strip().endsWith("data: [DONE]"), text);
    } finally {
      node.node().chaos().clear("test");
    }
  }

  @Test
  void overTheConnectionCapTheNextConnectionGetsA429AndIsClosedWhileOthersAreServed() throws Exception {
    var held = new ArrayList<RawHttp>();
    try {
      for (int i = 0; i < CAP; i++) {
        var c = new RawHttp("127.0.0.7", node.port());
        held.add(c);
        assertEquals(200, c.send("GET", "/healthz", Map.of(), null).status());
      }
      try (var extra = new RawHttp("127.0.0.7", node.port())) {
        // With a body the server has not read: answered all the same, not reset.
        var r = extra.send("POST", "/v1/chat/completions", Map.of("Authorization", "Bearer " + KEY), CHAT.getBytes(StandardCharsets.UTF_8));
        assertEquals(429, r.status(), r.body());
        JsonNode e = ApiClient.json(r.body()).get("error");
        assertEquals("capacity_exhausted", e.get("code").asText(), r.body());
        assertTrue(e.get("message").asText().contains("max-connections-per-address"), r.body());
        assertTrue(Long.parseLong(r.headers().get("retry-after")) >= 1, r.headers().toString());
        assertEquals("close", r.headers().get("connection"), r.headers().toString());
        assertTrue(r.nanos() < TimeUnit.SECONDS.toNanos(1), "took " + r.nanos() / 1_000_000 + " ms");
      }
      // Another address is not affected, and the held connections still work.
      try (var other = new RawHttp("127.0.0.8", node.port())) {
        assertEquals(200, other.send("GET", "/healthz", Map.of(), null).status());
      }
      assertEquals(200, held.get(0).send("GET", "/healthz", Map.of(), null).status());
      // A connection closed frees its place.
      held.remove(0).close();
      int status = 0;
      for (int i = 0; i < 50 && status != 200; i++) {
        try (var again = new RawHttp("127.0.0.7", node.port())) {
          status = again.send("GET", "/healthz", Map.of(), null).status();
        }
        if (status != 200) Thread.sleep(100);
      }
      assertEquals(200, status, "a freed place was not given again");
    } finally {
      for (var c : held) c.close();
    }
  }

  @Test
  void rotateAndRevokeOfAnotherTenantsKeyAnswerTheSameWhetherItExistsOrNot() throws Exception {
    assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"victim\", \"display_name\": \"V\", \"pools\": [\"demo\"]}").statusCode());
    assertEquals(201, admin.post("/admin/v1/tenants/victim/keys", "{\"key_id\": \"real\", \"role\": \"tenant-user\"}").statusCode());
    var issued = ApiClient.json(admin.post("/admin/v1/tenants/demo/keys", "{\"key_id\": \"probe\", \"role\": \"tenant-admin\"}").body());
    var probe = admin.withKey(issued.get("key").asText());

    for (String tenantId : List.of("victim", "no-such-tenant")) {
      var rotateReal = probe.post("/admin/v1/tenants/" + tenantId + "/keys/real/rotate", "");
      var rotateUnknown = probe.post("/admin/v1/tenants/" + tenantId + "/keys/made-up/rotate", "");
      var revokeReal = probe.send("DELETE", "/admin/v1/tenants/" + tenantId + "/keys/real", null);
      var revokeUnknown = probe.send("DELETE", "/admin/v1/tenants/" + tenantId + "/keys/made-up", null);
      for (var r : List.of(rotateReal, rotateUnknown, revokeReal, revokeUnknown)) {
        assertEquals(403, r.statusCode(), tenantId + ": " + r.body());
        assertEquals("permission_denied", ApiClient.json(r.body()).get("error").get("code").asText(), r.body());
      }
      assertEquals(rotateReal.body(), rotateUnknown.body());
      assertEquals(revokeReal.body(), revokeUnknown.body());
    }
    // Nothing happened to the key.
    JsonNode keys = ApiClient.json(admin.get("/admin/v1/tenants/victim").body()).get("keys");
    assertEquals(1, keys.size(), keys.toString());
    assertTrue(keys.get(0).get("active").asBoolean(), keys.toString());
  }

  @Test
  void aTenantFloodingThePoolGets429OverItsShareWhileAnotherTenantIsServed() throws Exception {
    assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"bystander\", \"display_name\": \"B\", \"pools\": [\"demo\"]}").statusCode());
    var bystander = admin.withKey(ApiClient.json(admin.post("/admin/v1/tenants/bystander/keys",
        "{\"key_id\": \"b\", \"role\": \"tenant-user\"}").body()).get("key").asText());
    // Every run holds the one sequence for a while, so the flood queues: one runs, one waits in the
    // engine (lookahead), two (the share) in the pool's queue, the rest are refused.
    node.node().chaos().apply(ChaosPlan.parse(Map.of("seed", 1, "faults", List.of(
        Map.of("fault", "delay", "first_token_delay", "1 s")))), "test");
    // Streams, so that the runs waiting longer than this node's short idle timeout are kept alive.
    byte[] stream = CHAT.replace("\"temperature\": 0", "\"temperature\": 0, \"stream\": true").getBytes(StandardCharsets.UTF_8);
    var pool = java.util.concurrent.Executors.newFixedThreadPool(12);
    try {
      var flood = new ArrayList<java.util.concurrent.Future<RawHttp.Response>>();
      for (int i = 0; i < 12; i++) {
        String from = "127.0.1." + (i + 1);
        flood.add(pool.submit(() -> {
          try (var c = new RawHttp(from, node.port())) {
            return c.send("POST", "/v1/chat/completions", Map.of("Authorization", "Bearer " + KEY), stream);
          }
        }));
      }
      Thread.sleep(500); // the flood is in
      var served = bystander.postStream("/v1/chat/completions", new String(stream, StandardCharsets.UTF_8));
      assertEquals(200, served.statusCode());
      String text = new String(served.body().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(text.contains("\"content\"") && text.strip().endsWith("data: [DONE]"), text);
      int refused = 0;
      for (var f : flood) {
        var r = f.get(60, TimeUnit.SECONDS);
        if (r.status() == 429) {
          refused++;
          JsonNode e = ApiClient.json(r.body()).get("error");
          assertEquals("capacity_exhausted", e.get("code").asText(), r.body());
          assertTrue(e.get("message").asText().contains("tenant-share"), r.body());
          assertTrue(Long.parseLong(r.headers().get("retry-after")) >= 1, r.headers().toString());
        } else {
          assertEquals(200, r.status(), r.body());
        }
      }
      assertTrue(refused >= 6, "only " + refused + " of 12 were refused");
    } finally {
      pool.shutdownNow();
      node.node().chaos().clear("test");
    }
  }
}
