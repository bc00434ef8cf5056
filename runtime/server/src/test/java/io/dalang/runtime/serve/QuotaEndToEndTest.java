package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A tenant's daily token budget through the real request path, and across a restart of the node. */
class QuotaEndToEndTest {
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Tell me about rivers"}], "max_tokens": 16, "temperature": 0}""";

  @Test
  void aSpentDailyTokenBudgetIsRefusedWithItsResetTimeAndStaysSpentAfterARestart(@TempDir Path data) throws Exception {
    String key;
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0), System.out)) {
      var admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("admin.key")).strip());
      admin.awaitReady(Duration.ofSeconds(90));
      assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"frugal\", \"display_name\": \"F\", \"pools\": [\"demo\"]}").statusCode());
      var issued = ApiClient.json(admin.post("/admin/v1/tenants/frugal/keys", "{\"key_id\": \"app\", \"role\": \"tenant-user\"}").body());
      key = issued.get("key").asText();
      var set = admin.send("PUT", "/admin/v1/tenants/frugal/quotas",
          "{\"requests_per_minute\": 0, \"tokens_per_day\": 20, \"concurrent_jobs\": 0, \"queued_jobs\": 0}");
      assertEquals(200, set.statusCode(), set.body());
      var app = admin.withKey(key);

      var first = app.post("/v1/chat/completions", CHAT);
      assertEquals(200, first.statusCode(), first.body());
      long used = ApiClient.json(first.body()).at("/usage/total_tokens").asLong();
      assertTrue(used >= 20, "the first run spends the budget: " + used);
      assertRefused(app);

      var usage = ApiClient.json(app.get("/admin/v1/tenants/frugal/quotas").body());
      assertEquals(20, usage.get("tokens_per_day").asLong());
      assertEquals(used, usage.at("/usage/tokens_today").asLong());
      Thread.sleep(1500); // past the usage checkpoint interval (1 s)
    }
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0), System.out)) {
      var app = new ApiClient(node.httpPort(), key);
      app.awaitReady(Duration.ofSeconds(90));
      assertRefused(app);
    }
  }

  static void assertRefused(ApiClient app) throws Exception {
    var r = app.post("/v1/chat/completions", CHAT);
    assertEquals(429, r.statusCode(), r.body());
    var e = ApiClient.json(r.body()).get("error");
    assertEquals("quota_exceeded", e.get("code").asText());
    assertEquals("tokens_per_day", e.get("param").asText());
    assertTrue(e.get("message").asText().contains("resets at"), r.body());
    long retryAfter = Long.parseLong(r.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retryAfter > 0 && retryAfter <= 86_400, "until the next UTC midnight: " + retryAfter);
  }
}
