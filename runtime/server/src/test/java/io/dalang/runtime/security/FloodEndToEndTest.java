package io.dalang.runtime.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.auth.Role;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Floods by an anonymous network client and by a tenant user against a real node over loopback
 * (docs/security.md, "Floods"): each test is the attack, and asserts that it fails cheaply and the node
 * keeps serving. Attackers connect from other loopback addresses than the test's own client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FloodEndToEndTest {
  static final String KEY = "flood-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}""";
  @TempDir static Path data;
  DalangNode node;
  ApiClient admin;
  ApiClient tenant;

  @BeforeAll
  void start() throws Exception {
    var started = SecurityNode.start(data, KEY, "");
    node = started.node();
    admin = started.admin();
    tenant = started.tenant();
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  long deniedAuditRows() throws Exception {
    var r = admin.get("/admin/v1/audit?outcome=denied&limit=1000");
    assertEquals(200, r.statusCode(), r.body());
    return ApiClient.json(r.body()).get("events").size();
  }

  static double metric(String scrape, String series) {
    return scrape.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
        .findFirst().orElse(0);
  }

  @Test
  void aFloodOfRandomKeysIsCountedNotAuditedAndThrottledPerAddress() throws Exception {
    long auditedBefore = deniedAuditRows();
    int n = 3000;
    int[] statuses = new int[n];
    long[] throttledNanos = new long[n];
    int throttled = 0;
    long start = System.nanoTime();
    try (var attacker = new RawHttp("127.0.0.2", node.httpPort())) {
      for (int i = 0; i < n; i++) {
        var r = attacker.send("GET", i % 2 == 0 ? "/admin/v1/fleet" : "/v1/models",
            Map.of("Authorization", "Bearer dlg-" + UUID.randomUUID()), null);
        statuses[i] = r.status();
        if (r.status() == 429) {
          assertEquals("too_many_auth_failures", ApiClient.json(r.body()).get("error").get("code").asText(), r.body());
          assertTrue(Long.parseLong(r.headers().get("retry-after")) >= 1, r.headers().toString());
          throttledNanos[throttled++] = r.nanos();
        } else {
          assertEquals(401, r.status(), r.body());
        }
      }
    }
    long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    long unauthorized = Arrays.stream(statuses).filter(s -> s == 401).count();
    // The burst (20) plus what refills while the flood runs (30 a minute).
    assertTrue(unauthorized <= 20 + 30 * (tookMs / 60_000 + 1), unauthorized + " guesses were looked up in " + tookMs + " ms");
    assertTrue(throttled >= n - 100, "only " + throttled + " of " + n + " were throttled");
    long[] fast = Arrays.copyOf(throttledNanos, throttled);
    Arrays.sort(fast);
    assertTrue(fast[throttled / 2] < TimeUnit.MILLISECONDS.toNanos(50), "median 429 took " + fast[throttled / 2] / 1000 + " µs");

    assertTrue(deniedAuditRows() - auditedBefore <= 2, "anonymous denials were audited one row each");
    String scrape = admin.get("/metrics").body();
    assertTrue(metric(scrape, "dalang_auth_denied_total{reason=\"rate_limited\"}") >= throttled, scrape);
    assertTrue(metric(scrape, "dalang_auth_denied_total{reason=\"unknown\"}") >= unauthorized, scrape);

    // The node still serves valid keys, from any address.
    assertEquals(200, admin.get("/admin/v1/fleet").statusCode());
    assertEquals(200, tenant.post("/v1/chat/completions", CHAT).statusCode());
  }

  @Test
  void aKeyIssuedAfterItWasFoundUnknownWorksAtOnce() throws Exception {
    String chosen = "dlg-chosen-" + UUID.randomUUID();
    try (var client = new RawHttp("127.0.0.3", node.httpPort())) {
      var auth = Map.of("Authorization", "Bearer " + chosen);
      assertEquals(401, client.send("GET", "/v1/models", auth, null).status());
      assertEquals(401, client.send("GET", "/v1/models", auth, null).status(), "remembered as unknown");
      node.keys().issue("demo", "chosen", Role.TENANT_USER, chosen).toCompletableFuture().get(10, TimeUnit.SECONDS);
      var r = client.send("GET", "/v1/models", auth, null);
      assertEquals(200, r.status(), r.body());
    }
  }

  @Test
  void denialsOfKnownKeysStayAudited() throws Exception {
    var issued = ApiClient.json(admin.post("/admin/v1/tenants/demo/keys", "{\"key_id\": \"soon-revoked\", \"role\": \"tenant-admin\"}").body());
    assertEquals(200, admin.send("DELETE", "/admin/v1/tenants/demo/keys/soon-revoked", null).statusCode());
    try (var client = new RawHttp("127.0.0.4", node.httpPort())) {
      var r = client.send("GET", "/admin/v1/tenants/demo", Map.of("Authorization", "Bearer " + issued.get("key").asText()), null);
      assertEquals(401, r.status(), r.body());
    }
    JsonNode events = ApiClient.json(admin.get("/admin/v1/audit?outcome=denied&actor=soon-revoked").body()).get("events");
    assertEquals(1, events.size(), events.toString());
    assertTrue(events.get(0).get("reason").asText().contains("revoked"), events.toString());
  }

  static JsonNode rejected(java.net.http.HttpResponse<String> r, String param) throws Exception {
    assertEquals(400, r.statusCode(), r.body().length() > 500 ? r.body().substring(0, 500) : r.body());
    JsonNode e = ApiClient.json(r.body()).get("error");
    assertEquals("invalid_request", e.get("code").asText(), r.body());
    assertEquals(param, e.get("param").asText(), r.body());
    assertTrue(e.get("message").asText().contains("dalang.limits"), "names the cap: " + r.body());
    return e;
  }

  @Test
  void fourOneMegabyteStopStringsAreRefusedAtOnceAtEveryHttpEntrance() throws Exception {
    String mb = "x".repeat(1 << 20);
    String stops = "[\"" + mb + "\", \"" + mb + "\", \"" + mb + "\", \"" + mb + "\"]";
    String chat = "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"max_tokens\": 4, \"stop\": "
        + stops + "}";
    long start = System.nanoTime();
    var e = rejected(tenant.post("/v1/chat/completions", chat), "stop");
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertTrue(ms < 1000, "took " + ms + " ms");
    assertTrue(e.get("message").asText().contains("1024 bytes"), e.toString());
    rejected(tenant.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"Hi\", \"stop\": " + stops + "}"), "stop");
    rejected(tenant.post("/v1/jobs", chat), "stop");
    rejected(tenant.post("/v1/chat/completions", chat, "Idempotency-Key", "flood-1"), "stop");
    assertEquals(200, tenant.post("/v1/chat/completions", CHAT).statusCode(), "the node still serves");
  }

  @Test
  void everyInputCapIsATyped400NamingTheField() throws Exception {
    rejected(tenant.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
        + "\"stop\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}"), "stop");
    var message = "{\"role\": \"user\", \"content\": \"Hi\"}";
    rejected(tenant.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": ["
        + String.join(",", java.util.Collections.nCopies(2049, message)) + "]}"), "messages");
    rejected(tenant.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"" + "y".repeat((4 << 20) + 1) + "\"}"), "prompt");
    rejected(tenant.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [" + message + "], \"x\": "
        + "[".repeat(100) + "]".repeat(100) + "}"), "body");
    // A prompt that cannot fit the demo model's context (4096 tokens) even at 128 bytes a token: refused before queueing.
    var tooLong = tenant.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"" + "z".repeat(600_000) + "\", \"max_tokens\": 4}");
    assertEquals(400, tooLong.statusCode(), tooLong.body().substring(0, Math.min(500, tooLong.body().length())));
    assertEquals("context_length_exceeded", ApiClient.json(tooLong.body()).get("error").get("code").asText());
    assertEquals(200, tenant.post("/v1/chat/completions", CHAT).statusCode(), "the node still serves");
  }

  @Test
  void runRecordsKeepStopStringsAsDigestsNotRaw() throws Exception {
    var r = tenant.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], "
        + "\"max_tokens\": 4, \"temperature\": 0, \"stop\": [\"never-in-a-record\"]}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode record = tenant.awaitRun(r.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertTrue(!record.toString().contains("never-in-a-record"), record.toString());
    assertTrue(record.at("/sampler/stop/0").asText().matches("sha256:[0-9a-f]{16}:17"), record.toString());
  }
}
