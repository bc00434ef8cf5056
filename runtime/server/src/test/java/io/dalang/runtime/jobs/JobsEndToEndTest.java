package io.dalang.runtime.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Durable jobs and Idempotency-Key through the real HTTP edge, engine and journal, across a restart. */
class JobsEndToEndTest {
  static final String KEY = "jobs-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Tell me about rivers"}], "max_tokens": 12, "temperature": 0, "seed": 7}""";
  static final String OTHER_CHAT = CHAT.replace("rivers", "mountains");

  static JsonNode awaitFinished(ApiClient api, String jobId) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      var r = api.get("/v1/jobs/" + jobId);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode job = ApiClient.json(r.body());
      String state = job.get("state").asText();
      if (state.equals("succeeded") || state.equals("dead_lettered")) return job;
      Thread.sleep(50);
    }
    throw new AssertionError("job " + jobId + " did not finish: " + api.get("/v1/jobs/" + jobId).body());
  }

  static Map<String, String> key(String k) {
    return Map.of("Idempotency-Key", k);
  }

  @Test
  void aJobFinishesWithTheSynchronousResultAndItsIdempotencyKeyNamesItAcrossARestart(@TempDir Path data) throws Exception {
    String jobId;
    String syncBody;
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withDemoKey(KEY), System.out)) {
      var app = new ApiClient(node.httpPort(), KEY);
      app.awaitReady(Duration.ofSeconds(90));
      var sync = app.post("/v1/chat/completions", CHAT);
      assertEquals(200, sync.statusCode(), sync.body());
      String expected = ApiClient.json(sync.body()).at("/choices/0/message/content").asText();

      var submitted = app.post("/v1/jobs", CHAT, key("order-1"));
      assertEquals(202, submitted.statusCode(), submitted.body());
      JsonNode ack = ApiClient.json(submitted.body());
      jobId = ack.get("id").asText();
      assertTrue(jobId.startsWith("job_"), jobId);
      assertEquals("job", ack.get("object").asText());
      assertEquals("/v1/jobs/" + jobId, submitted.headers().firstValue("Location").orElseThrow());

      JsonNode done = awaitFinished(app, jobId);
      assertEquals("succeeded", done.get("state").asText(), done.toString());
      assertEquals("chat.completion", done.at("/result/object").asText());
      assertEquals(expected, done.at("/result/choices/0/message/content").asText(), "temperature 0 and a seed: the same text");
      assertEquals(12, done.at("/result/usage/completion_tokens").asInt());
      assertEquals(1, done.get("attempts").size());
      assertEquals("llama-inprocess", done.at("/attempts/0/engine").asText());

      var again = app.post("/v1/jobs", CHAT.replace(", ", ",  "), key("order-1"));
      assertEquals(200, again.statusCode(), "a repeat, formatted differently, is the same request: " + again.body());
      assertEquals(jobId, ApiClient.json(again.body()).get("id").asText());
      assertEquals("true", again.headers().firstValue("Idempotent-Replayed").orElse(""));
      var conflict = app.post("/v1/jobs", OTHER_CHAT, key("order-1"));
      assertEquals(409, conflict.statusCode(), conflict.body());
      assertEquals("idempotency_conflict", ApiClient.json(conflict.body()).at("/error/code").asText());

      var syncKeyed = app.post("/v1/chat/completions", CHAT, key("sync-1"));
      assertEquals(200, syncKeyed.statusCode(), syncKeyed.body());
      assertEquals(expected, ApiClient.json(syncKeyed.body()).at("/choices/0/message/content").asText());
      syncBody = syncKeyed.body();
      var syncRepeat = app.post("/v1/chat/completions", CHAT, key("sync-1"));
      assertEquals(syncBody, syncRepeat.body(), "the stored result, not a new run");
      assertEquals("true", syncRepeat.headers().firstValue("Idempotent-Replayed").orElse(""));

      var admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("admin.key")).strip());
      assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"other\", \"display_name\": \"O\", \"pools\": [\"demo\"]}").statusCode());
      String otherKey = ApiClient.json(admin.post("/admin/v1/tenants/other/keys", "{\"key_id\": \"o\", \"role\": \"tenant-user\"}").body())
          .get("key").asText();
      var other = app.withKey(otherKey);
      assertEquals(404, other.get("/v1/jobs/" + jobId).statusCode(), "another tenant's job does not exist for it");
      var otherSameKey = other.post("/v1/jobs", CHAT, key("order-1"));
      assertEquals(202, otherSameKey.statusCode(), "keys are per tenant: " + otherSameKey.body());
      assertEquals(404, app.get("/v1/jobs/job_doesnotexist").statusCode());
    }
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0), System.out)) {
      var app = new ApiClient(node.httpPort(), KEY);
      app.awaitReady(Duration.ofSeconds(90));
      var again = app.post("/v1/jobs", CHAT, key("order-1"));
      assertEquals(200, again.statusCode(), again.body());
      assertEquals(jobId, ApiClient.json(again.body()).get("id").asText(), "the key survived the restart");
      assertEquals("succeeded", ApiClient.json(again.body()).get("state").asText());
      assertEquals(409, app.post("/v1/jobs", OTHER_CHAT, key("order-1")).statusCode());
      assertEquals(syncBody, app.post("/v1/chat/completions", CHAT, key("sync-1")).body());
    }
  }

  @Test
  void aJobBodyMustBeAChatOrCompletionRequestForAServedModel(@TempDir Path data) throws Exception {
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withDemoKey(KEY), System.out)) {
      var app = new ApiClient(node.httpPort(), KEY);
      assertEquals(400, app.post("/v1/jobs", "{\"model\": \"dalang-demo\"}").statusCode());
      assertEquals(400, app.post("/v1/jobs", "{\"type\": \"essay\", \"request\": {}}").statusCode());
      assertEquals(400, app.post("/v1/jobs", CHAT.replace("\"seed\": 7", "\"seed\": 7, \"stream\": true")).statusCode());
      assertEquals(404, app.post("/v1/jobs", CHAT.replace("dalang-demo", "no-such-model")).statusCode());
      var wrapped = app.post("/v1/jobs", "{\"type\": \"completion\", \"request\": {\"model\": \"dalang-demo\", \"prompt\": \"Once\", \"max_tokens\": 4}}");
      assertEquals(202, wrapped.statusCode(), wrapped.body());
      assertEquals("completion", ApiClient.json(wrapped.body()).get("type").asText());
      assertEquals(400, app.post("/v1/jobs", CHAT, key("")).statusCode());
    }
  }
}
