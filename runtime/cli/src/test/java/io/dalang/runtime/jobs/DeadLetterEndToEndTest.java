package io.dalang.runtime.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.DalangCli;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs that cannot finish land in the dead-letter queue with their attempts; `dalang dlq` lists, shows
 * and replays them against the running node, and every replay is audited.
 */
class DeadLetterEndToEndTest {
  static final String KEY = "dlq-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Tell me about rivers"}], "max_tokens": %d, "temperature": 0}""";

  @Test
  void exhaustedAndNonRetriableJobsAreDeadLetteredAndAReplayRunsThemAgainAudited(@TempDir Path data) throws Exception {
    Path conf = data.resolve("fast-retries.conf");
    Files.createDirectories(data);
    Files.writeString(conf, "dalang.jobs { max-attempts = 3, min-backoff = 50 ms, max-backoff = 200 ms }\n");
    var options = new ServeOptions(data, 0, null, 0, conf, null, KEY);
    try (var node = DalangNode.start(options, System.out)) {
      String adminKey = Files.readString(data.resolve("admin.key")).strip();
      var admin = new ApiClient(node.httpPort(), adminKey);
      var demo = admin.withKey(KEY);
      demo.awaitReady(Duration.ofSeconds(90));
      assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"frugal\", \"display_name\": \"F\", \"pools\": [\"demo\"]}").statusCode());
      var frugal = demo.withKey(ApiClient.json(admin.post("/admin/v1/tenants/frugal/keys", "{\"key_id\": \"app\", \"role\": \"tenant-user\"}")
          .body()).get("key").asText());
      assertEquals(200, admin.send("PUT", "/admin/v1/tenants/frugal/quotas",
          "{\"requests_per_minute\": 0, \"tokens_per_day\": 10, \"concurrent_jobs\": 0, \"queued_jobs\": 0}").statusCode());
      assertEquals(200, frugal.post("/v1/chat/completions", CHAT.formatted(16)).statusCode(), "spends the day's tokens");
      var thrifty = starvedTenant(admin, "thrifty");

      // Retriable (quota_exceeded) until the attempts run out. A job that cannot fit is refused at submit.
      String starved = ApiClient.json(frugal.post("/v1/jobs", CHAT.formatted(8)).body()).get("id").asText();
      var refused = demo.post("/v1/jobs", CHAT.formatted(8000));
      assertEquals(400, refused.statusCode(), refused.body());
      assertEquals("context_length_exceeded", ApiClient.json(refused.body()).at("/error/code").asText());
      String spent = ApiClient.json(thrifty.post("/v1/jobs", CHAT.formatted(8)).body()).get("id").asText();
      JsonNode s = JobsEndToEndTest.awaitFinished(frugal, starved);
      assertEquals("dead_lettered", s.get("state").asText(), s.toString());
      assertEquals(3, s.get("attempts").size());
      for (JsonNode a : s.get("attempts")) {
        assertEquals("quota_exceeded", a.at("/error/code").asText());
        assertFalse(a.get("started_at").isNull() || a.get("ended_at").isNull());
      }
      assertEquals("quota_exceeded", s.at("/error/code").asText());
      JsonNode t = JobsEndToEndTest.awaitFinished(thrifty, spent);
      assertEquals("dead_lettered", t.get("state").asText(), t.toString());

      String[] node1 = {"--url", "http://127.0.0.1:" + node.httpPort(), "--data-dir", data.toString()};
      var all = dlq("list", node1);
      assertEquals(0, all.code(), all.err());
      assertTrue(all.out().contains(starved) && all.out().contains(spent), all.out());
      assertTrue(all.out().contains("2 dead-lettered jobs"), all.out());
      var onlyFrugal = dlq("list", node1, "--tenant", "frugal");
      assertTrue(onlyFrugal.out().contains(starved) && !onlyFrugal.out().contains(spent), onlyFrugal.out());
      var firstPage = dlq("list", node1, "--limit", "1");
      assertTrue(firstPage.out().contains(starved) && !firstPage.out().contains(spent), firstPage.out());
      String cursor = firstPage.out().substring(firstPage.out().indexOf("--cursor ") + 9).strip();
      var secondPage = dlq("list", node1, "--limit", "1", "--cursor", cursor);
      assertTrue(secondPage.out().contains(spent) && !secondPage.out().contains(starved), secondPage.out());
      assertEquals(400, admin.get("/admin/v1/dlq?limit=501").statusCode(), "a page is at most 500 jobs");
      var frugalAdmin = demo.withKey(ApiClient.json(admin.post("/admin/v1/tenants/frugal/keys",
          "{\"key_id\": \"ops\", \"role\": \"tenant-admin\"}").body()).get("key").asText());
      JsonNode own = ApiClient.json(frugalAdmin.get("/admin/v1/dlq").body()).get("jobs");
      assertEquals(1, own.size(), "a tenant-admin sees its own tenant's jobs only: " + own);
      assertEquals(starved, own.get(0).get("id").asText());
      assertEquals(403, frugalAdmin.get("/admin/v1/dlq?tenant=thrifty").statusCode());
      var shown = dlq("show", node1, starved);
      assertEquals(0, shown.code(), shown.err());
      assertEquals(3, ApiClient.json(shown.out()).get("attempts").size());
      assertEquals("frugal", ApiClient.json(shown.out()).get("tenant").asText());
      assertEquals(403, frugal.get("/admin/v1/dlq").statusCode(), "a tenant-user does not read the queue");

      // The quota is lifted; the replay gets a fresh budget of attempts and the job succeeds.
      assertEquals(200, admin.send("PUT", "/admin/v1/tenants/frugal/quotas",
          "{\"requests_per_minute\": 0, \"tokens_per_day\": 0, \"concurrent_jobs\": 0, \"queued_jobs\": 0}").statusCode());
      var replayed = dlq("replay", node1, starved, "--replay-id", "fix-1");
      assertEquals(0, replayed.code(), replayed.err());
      assertTrue(replayed.out().startsWith("replayed " + starved), replayed.out());
      JsonNode done = JobsEndToEndTest.awaitFinished(frugal, starved);
      assertEquals("succeeded", done.get("state").asText(), done.toString());
      assertEquals(4, done.get("attempts").size());
      assertEquals(1, done.get("replays").size());
      var again = dlq("replay", node1, starved, "--replay-id", "fix-1");
      assertTrue(again.out().startsWith("unchanged " + starved), again.out());
      var late = dlq("replay", node1, starved);
      assertTrue(late.out().contains("not dead-lettered"), late.out());

      var tenantAll = dlq("replay", node1, "--tenant", "thrifty", "--all");
      assertEquals(0, tenantAll.code(), tenantAll.err());
      assertTrue(tenantAll.out().contains("1 of 1 dead-lettered job replayed"), tenantAll.out());
      JsonNode t2 = awaitAttempts(thrifty, spent, 6);
      assertEquals("quota_exceeded", t2.at("/attempts/5/error/code").asText());

      var audit = ApiClient.json(admin.get("/admin/v1/audit?action=job.replay").body()).get("events");
      assertEquals(4, audit.size(), audit.toString());
      List<String> results = new ArrayList<>();
      for (JsonNode e : audit) results.add(e.at("/details/result").asText());
      assertEquals(List.of("replayed", "no-op", "no-op", "replayed"), results);
      assertEquals("frugal", audit.get(0).get("tenant").asText());
      assertEquals(starved, audit.get(0).get("target").asText());
    }
  }

  /** A tenant of the demo pool that has spent its day's tokens: its jobs fail with quota_exceeded. */
  static ApiClient starvedTenant(ApiClient admin, String tenant) throws Exception {
    var api = JobFairnessEndToEndTest.tenantUser(admin, tenant);
    assertEquals(200, admin.send("PUT", "/admin/v1/tenants/" + tenant + "/quotas",
        "{\"requests_per_minute\": 0, \"tokens_per_day\": 10, \"concurrent_jobs\": 0, \"queued_jobs\": 0}").statusCode());
    assertEquals(200, api.post("/v1/chat/completions", CHAT.formatted(16)).statusCode(), "spends the day's tokens");
    return api;
  }

  static JsonNode awaitAttempts(ApiClient api, String jobId, int attempts) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode job = ApiClient.json(api.get("/v1/jobs/" + jobId).body());
      if (job.get("attempts").size() >= attempts && job.get("state").asText().equals("dead_lettered")) return job;
      Thread.sleep(50);
    }
    throw new AssertionError("job " + jobId + " did not reach " + attempts + " attempts");
  }

  static DalangCli.Run dlq(String sub, String[] node, String... args) {
    var all = new ArrayList<String>(List.of("dlq", sub));
    all.addAll(List.of(node));
    all.addAll(List.of(args));
    return DalangCli.dalang(all.toArray(String[]::new));
  }
}
