package io.dalang.runtime.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tenant cannot flood the journal with durable jobs: pending jobs, their request bytes and
 * submissions per minute are limited (node defaults, per-tenant overrides in the quota API), a refusal
 * is typed and persists nothing, an idempotent repeat is not counted, and a job that cannot fit any slot
 * is refused at submit. One node over loopback for all of them; each test has its own tenant.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobLimitsEndToEndTest {
  static final String KEY = "limits-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Tell me about %s"}], "max_tokens": %d, "temperature": 0}""";

  DalangNode node;
  ApiClient admin;

  @BeforeAll
  void start(@TempDir Path data) throws Exception {
    Path conf = data.resolve("limits.conf");
    // One runner cut after 2 s: long jobs stay pending for a while, then end (dead-lettered).
    Files.writeString(conf, "dalang.jobs { max-concurrent-attempts = 1, max-attempts = 1, attempt-timeout = 2 s,"
        + " max-pending-jobs = 3, max-submissions-per-minute = 1000, body-ttl = 3 s }\n");
    node = DalangNode.start(new ServeOptions(data, 0, null, 0, conf, null, KEY), System.out);
    admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("admin.key")).strip());
    admin.withKey(KEY).awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  @Test
  void pendingJobsOverTheDefaultLimitAreRefusedUntilSomeFinishAndARepeatIsNotCounted() throws Exception {
    var busy = JobFairnessEndToEndTest.tenantUser(admin, "busy");
    String first = accepted(busy.post("/v1/jobs", CHAT.formatted("rivers", 3500), Map.of("Idempotency-Key", "k-1")));
    accepted(busy.post("/v1/jobs", CHAT.formatted("lakes", 3500)));
    accepted(busy.post("/v1/jobs", CHAT.formatted("seas", 3500)));

    var over = busy.post("/v1/jobs", CHAT.formatted("ponds", 8), Map.of("Idempotency-Key", "k-over"));
    assertRefused(over, 429, "quota_exceeded", "pending_jobs");
    assertTrue(over.headers().firstValue("Retry-After").isPresent(), "a 429 says when to retry");
    var repeat = busy.post("/v1/jobs", CHAT.formatted("rivers", 3500), Map.of("Idempotency-Key", "k-1"));
    assertEquals(200, repeat.statusCode(), "a repeat of an accepted job is answered, not counted: " + repeat.body());
    assertEquals(first, ApiClient.json(repeat.body()).get("id").asText());

    JobsEndToEndTest.awaitFinished(busy, first);
    // The refused submission persisted nothing: its key is free for another request, not an idempotency conflict.
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    HttpResponse<String> later;
    do {
      later = busy.post("/v1/jobs", CHAT.formatted("brooks", 8), Map.of("Idempotency-Key", "k-over"));
    } while (later.statusCode() == 429 && System.nanoTime() < deadline && sleep());
    assertEquals(202, later.statusCode(), later.body());
  }

  @Test
  void aTenantsOverriddenSubmissionRateAndPendingBytesAreEnforcedWithTypedErrors() throws Exception {
    var chatty = JobFairnessEndToEndTest.tenantUser(admin, "chatty");
    var set = admin.send("PUT", "/admin/v1/tenants/chatty/quotas", "{\"requests_per_minute\": 0, \"tokens_per_day\": 0,"
        + " \"concurrent_jobs\": 0, \"queued_jobs\": 0, \"job_submissions_per_minute\": 2, \"pending_job_bytes\": 400}");
    assertEquals(200, set.statusCode(), set.body());
    JsonNode quotas = ApiClient.json(admin.get("/admin/v1/tenants/chatty/quotas").body());
    assertEquals(2, quotas.get("job_submissions_per_minute").asInt(), quotas.toString());
    assertTrue(quotas.get("pending_jobs").isNull(), "not overridden: the node's default holds " + quotas);

    String big = "x".repeat(500);
    assertRefused(chatty.post("/v1/jobs", CHAT.formatted(big, 8)), 400, "invalid_request", "pending_job_bytes");
    String third = "y".repeat(150);
    accepted(chatty.post("/v1/jobs", CHAT.formatted(third, 3500)));
    assertRefused(chatty.post("/v1/jobs", CHAT.formatted(third + third, 8)), 429, "quota_exceeded", "pending_job_bytes");
    accepted(chatty.post("/v1/jobs", CHAT.formatted("z", 8)));
    var fast = chatty.post("/v1/jobs", CHAT.formatted("w", 8));
    assertRefused(fast, 429, "quota_exceeded", "job_submissions_per_minute");
    long retry = Long.parseLong(fast.headers().firstValue("Retry-After").orElseThrow());
    assertTrue(retry >= 1 && retry <= 60, "until the oldest submission leaves the minute: " + retry);
  }

  @Test
  void aJobThatFitsNoSlotIsRefusedAtSubmitNotDeadLettered() throws Exception {
    var wide = JobFairnessEndToEndTest.tenantUser(admin, "wide");
    var r = wide.post("/v1/jobs", CHAT.formatted("rivers", 8000));
    assertRefused(r, 400, "context_length_exceeded", "max_tokens");
    assertTrue(ApiClient.json(r.body()).at("/error/message").asText().contains("demo-0"), r.body());
    var keyed = wide.post("/v1/chat/completions", CHAT.formatted("rivers", 8000), Map.of("Idempotency-Key", "too-long"));
    assertEquals(400, keyed.statusCode(), keyed.body());
    var dlq = ApiClient.json(admin.get("/admin/v1/dlq?tenant=wide").body());
    assertEquals(0, dlq.get("jobs").size(), dlq.toString());
  }

  @Test
  void aDeadLetteredJobWhoseBodyExpiredIsGoneNotReplayed() throws Exception {
    var late = JobFairnessEndToEndTest.tenantUser(admin, "late");
    String id = accepted(late.post("/v1/jobs", CHAT.formatted("rivers", 3500)));
    assertEquals("dead_lettered", JobsEndToEndTest.awaitFinished(late, id).get("state").asText(), "cut by the attempt timeout");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    JsonNode job;
    do {
      job = ApiClient.json(admin.get("/admin/v1/dlq/" + id).body());
    } while (job.get("body_dropped_at").isNull() && System.nanoTime() < deadline && sleep());
    assertTrue(!job.get("body_dropped_at").isNull(), "dropped body-ttl after it was dead-lettered: " + job);
    var replay = admin.post("/admin/v1/dlq/" + id + "/replay", "");
    assertEquals(410, replay.statusCode(), replay.body());
    assertEquals("gone", ApiClient.json(replay.body()).at("/error/code").asText(), replay.body());
    assertTrue(ApiClient.json(replay.body()).at("/error/message").asText().contains("body was dropped"), replay.body());
  }

  static String accepted(HttpResponse<String> r) throws Exception {
    assertEquals(202, r.statusCode(), r.body());
    return ApiClient.json(r.body()).get("id").asText();
  }

  static void assertRefused(HttpResponse<String> r, int status, String code, String param) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = ApiClient.json(r.body()).get("error");
    assertEquals(code, e.get("code").asText(), r.body());
    assertEquals(param, e.get("param").asText(), r.body());
  }

  private static boolean sleep() throws InterruptedException {
    Thread.sleep(200);
    return true;
  }
}
