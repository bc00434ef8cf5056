package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.apikey.ApiKeyEntity;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.Digests;
import io.dalang.runtime.testing.ApiClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole runtime on free ports with a temp data dir and the in-process llama.cpp engine, which keeps
 * the {@link RunTelemetryContract}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeEndToEndTest implements RunTelemetryContract {
  static final String KEY = "e2e-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Tell me about rivers"}],
       "max_tokens": 24, "temperature": 0, "seed": 11 %s}""";
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;

  @BeforeAll
  void start() throws Exception {
    node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withDemoKey(KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    api.awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  @Override
  public Served served() {
    return new Served(node, api, "llama-inprocess");
  }

  @Test
  void streamsAChatCompletionAsOpenAiSseEndingWithDone() throws Exception {
    var resp = api.postStream("/v1/chat/completions", CHAT.formatted(", \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
    assertEquals(200, resp.statusCode());
    assertEquals("text/event-stream", resp.headers().firstValue("Content-Type").orElse("").split(";")[0]);
    assertTrue(resp.headers().firstValue("x-dalang-run-id").orElse("").startsWith("run_"));
    List<String> data = ApiClient.sseData(resp.body());
    assertEquals("[DONE]", data.get(data.size() - 1));
    JsonNode first = ApiClient.json(data.get(0));
    assertEquals("chat.completion.chunk", first.get("object").asText());
    assertEquals("assistant", first.at("/choices/0/delta/role").asText());
    JsonNode usage = ApiClient.json(data.get(data.size() - 2));
    assertEquals(0, usage.at("/choices").size(), "include_usage: a last chunk of its own, without choices");
    assertEquals(24, usage.at("/usage/completion_tokens").asInt());
    assertTrue(usage.at("/usage/prompt_tokens").asInt() > 0);
    JsonNode last = ApiClient.json(data.get(data.size() - 3));
    assertEquals("length", last.at("/choices/0/finish_reason").asText());
    assertTrue(last.at("/usage").isMissingNode(), "usage only in its own chunk");
    for (String d : data.subList(1, data.size() - 3)) {
      JsonNode chunk = ApiClient.json(d);
      assertTrue(chunk.at("/choices/0/finish_reason").isNull());
      assertFalse(chunk.at("/choices/0/delta/content").asText().isEmpty());
      assertEquals(first.get("id"), chunk.get("id"), "one id for the whole stream");
    }
    assertEquals(24, data.size() - 4, "one chunk per token between the role chunk and the final chunk");
  }

  static String streamedText(List<String> data) throws Exception {
    var sb = new StringBuilder();
    for (String d : data) {
      if (d.equals("[DONE]")) continue;
      JsonNode n = ApiClient.json(d);
      sb.append(n.at("/choices/0/delta/content").asText(""));
      sb.append(n.at("/choices/0/text").asText(""));
    }
    return sb.toString();
  }

  @Test
  void aWholeAnswerAtTemperatureZeroWithASeedEqualsTheConcatenatedStream() throws Exception {
    String streamed = streamedText(ApiClient.sseData(api.postStream("/v1/chat/completions", CHAT.formatted(", \"stream\": true")).body()));
    var whole = api.post("/v1/chat/completions", CHAT.formatted(""));
    assertEquals(200, whole.statusCode(), whole.body());
    JsonNode body = ApiClient.json(whole.body());
    assertEquals("chat.completion", body.get("object").asText());
    assertEquals(streamed, body.at("/choices/0/message/content").asText());
    assertFalse(streamed.isBlank());
    assertEquals(24, body.at("/usage/completion_tokens").asInt());
  }

  @Test
  void textCompletionsStreamAndAnswerWhole() throws Exception {
    String req = """
        {"model": "dalang-demo", "prompt": "The tree is", "max_tokens": 10, "temperature": 0, "seed": 3 %s}""";
    var streamed = ApiClient.sseData(api.postStream("/v1/completions", req.formatted(", \"stream\": true")).body());
    assertEquals("[DONE]", streamed.get(streamed.size() - 1));
    assertEquals("text_completion", ApiClient.json(streamed.get(0)).get("object").asText());
    var whole = ApiClient.json(api.post("/v1/completions", req.formatted("")).body());
    assertEquals(streamedText(streamed), whole.at("/choices/0/text").asText());
    assertEquals(10, whole.at("/usage/completion_tokens").asInt());
  }

  void assertError(java.net.http.HttpResponse<String> r, int status, String code) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = ApiClient.json(r.body()).get("error");
    assertNotNull(e, r.body());
    assertEquals(code, e.get("code").asText(), r.body());
    assertFalse(e.get("message").asText().isBlank());
    assertFalse(r.body().contains("Exception") || r.body().contains("at io.") || r.body().contains("at org."), "no stack trace: " + r.body());
  }

  @Test
  void clientMistakesGetTypedFourHundredErrors() throws Exception {
    assertError(api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": ["), 400, "malformed_json");
    assertError(api.post("/v1/chat/completions", ""), 400, "malformed_json");
    assertError(api.post("/v1/chat/completions", "[1, 2]"), 400, "invalid_request");
    assertError(api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": []}"), 400, "invalid_request");
    var wrongType = api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": \"many\"}");
    assertError(wrongType, 400, "invalid_request");
    assertTrue(wrongType.body().contains("max_tokens"), wrongType.body());
    assertError(api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": 9}"), 400, "invalid_request");
    assertError(api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 5000}"), 400, "context_length_exceeded");
    // The demo pool runs the in-process engine: tools are a typed refusal naming the parameter and the engine.
    var tools = api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}]}");
    assertError(tools, 400, "unsupported_parameter");
    assertTrue(tools.body().contains("'tools'") && tools.body().contains("llama-inprocess"), tools.body());
    assertError(api.post("/v1/chat/completions", "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"response_format\": {\"type\": \"xml\"}}"), 400, "invalid_request");
    assertError(api.post("/v1/chat/completions", "{\"model\": \"no-such-model\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}"), 404, "model_not_found");
    assertError(api.withKey(null).post("/v1/chat/completions", CHAT.formatted("")), 401, "authentication_failed");
    assertError(api.withKey("not-a-key").post("/v1/chat/completions", CHAT.formatted("")), 401, "authentication_failed");
    assertError(api.get("/v1/no-such-endpoint"), 404, "not_found");
    assertError(api.get("/v1/chat/completions"), 405, "method_not_allowed");
    assertError(api.get("/v1/runs/run_doesnotexist"), 404, "not_found");
  }

  java.net.http.HttpResponse<String> postWithHeaders(String body, String... headers) throws Exception {
    return api.post("/v1/chat/completions", body, headers);
  }

  @Test
  void priorityAndDeadlineHeadersReachTheSlotsAdmissionQueue() throws Exception {
    assertEquals(200, postWithHeaders(CHAT.formatted(""), "x-dalang-priority", "batch").statusCode());
    assertEquals(200, postWithHeaders(CHAT.formatted(""), "x-dalang-deadline-ms", "60000").statusCode());
    var late = postWithHeaders(CHAT.formatted(""), "x-dalang-deadline-ms", "0");
    assertError(late, 504, "timeout");
    assertTrue(late.body().contains("deadline"), late.body());
    assertError(postWithHeaders(CHAT.formatted(""), "x-dalang-priority", "urgent"), 400, "invalid_request");
    assertError(postWithHeaders(CHAT.formatted(""), "x-dalang-deadline-ms", "soon"), 400, "invalid_request");
  }

  @Test
  void eachRunsPlacementIsNarratedWithItsCandidatesAndTheirVerdicts() throws Exception {
    var ok = api.post("/v1/chat/completions", CHAT.formatted(""));
    var placed = ApiClient.json(api.get("/v1/placements/" + ok.headers().firstValue("x-dalang-run-id").orElseThrow()).body());
    assertEquals("demo-0", placed.get("chosen").asText(), placed.toString());
    assertEquals("least-loaded", placed.get("policy").asText());
    assertEquals(16, placed.get("job_spec_hash").asText().length());
    assertTrue(placed.get("snapshot_version").asLong() > 0);
    var candidate = placed.get("candidates").get(0);
    assertEquals("demo-0", candidate.get("slot_id").asText());
    assertTrue(candidate.get("feasible").asBoolean());
    assertTrue(candidate.get("chosen").asBoolean());
    assertEquals("F32", candidate.get("quantization").asText(), "read from the model file");
    assertEquals(0, candidate.get("rejections").size());

    var tooLong = api.post("/v1/chat/completions",
        "{\"model\": \"dalang-demo\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 5000}");
    assertError(tooLong, 400, "context_length_exceeded");
    var rejected = ApiClient.json(api.get("/v1/placements/" + tooLong.headers().firstValue("x-dalang-run-id").orElseThrow()).body());
    assertTrue(rejected.get("chosen").isNull(), rejected.toString());
    assertEquals("context_length_exceeded", rejected.get("error").get("code").asText());
    var verdict = rejected.get("candidates").get(0);
    assertFalse(verdict.get("feasible").asBoolean());
    assertTrue(verdict.get("rejections").get(0).asText().contains("slot holds 4096 per sequence"), verdict.toString());
    assertError(api.get("/v1/placements/run_doesnotexist"), 404, "not_found");
  }

  @Test
  void aRunsTelemetryIsRecordedAndVisibleOnlyToItsTenant() throws Exception {
    var r = api.post("/v1/chat/completions", CHAT.formatted(""));
    String runId = r.headers().firstValue("x-dalang-run-id").orElseThrow();
    var run = ApiClient.json(api.get("/v1/runs/" + runId).body());
    assertEquals(runId, run.get("run_id").asText());
    assertEquals("demo", run.get("tenant").asText());
    assertEquals("demo", run.get("pool").asText());
    assertEquals("demo-0", run.get("slot").asText());
    assertEquals("llama-inprocess", run.get("engine").asText());
    assertEquals("ok", run.get("outcome").asText());
    assertEquals("valid", run.get("run_quality").asText());
    String sidecar = run.at("/sidecar/0/sidecar_parse_status").asText();
    assertTrue(java.util.Set.of("ok", "partial", "failed", "absent").contains(sidecar), run.toString()); // absent without nvidia-smi
    assertEquals(0, run.get("quality_reasons").size());
    assertEquals(24, run.get("completion_tokens").asInt());
    double internal = run.get("internal_model_seconds").asDouble();
    double total = run.get("total_seconds").asDouble();
    assertTrue(internal > 0 && internal <= total, run.toString());
    assertEquals((total - internal) / total, run.get("orchestration_overhead_ratio").asDouble(), 1e-9);
    assertTrue(run.get("ttft_ms").asDouble() > 0);
    assertTrue(run.get("tokens_per_second").asDouble() > 0);

    String otherKey = "other-" + Long.toHexString(System.nanoTime());
    var sharding = ClusterSharding.get(node.system());
    sharding.entityRefFor(TenantEntity.ENTITY_KEY, "other").<StatusReply<TenantEntity.TenantView>>ask(
        to -> new TenantEntity.CreateTenant("Other", List.of(), to), Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
    sharding.entityRefFor(ApiKeyEntity.ENTITY_KEY, Digests.sha256(otherKey)).<StatusReply<ApiKeyEntity.ApiKeyView>>ask(
        to -> new ApiKeyEntity.IssueKey("other", "other-1", "tenant-user", to), Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
    var other = api.withKey(otherKey);
    assertError(other.get("/v1/runs/" + runId), 404, "not_found");
    assertError(other.get("/v1/placements/" + runId), 404, "not_found");
    assertError(other.post("/v1/chat/completions", CHAT.formatted("")), 404, "model_not_found");
    assertEquals(0, ApiClient.json(other.get("/v1/models").body()).get("data").size());
  }

  @Test
  void closingTheConnectionCancelsTheGenerationAtTheEngine() throws Exception {
    String runId = api.streamThenHangUp("/v1/completions",
        "{\"model\": \"dalang-demo\", \"prompt\": \"On and on\", \"max_tokens\": 4000, \"stream\": true}", 5);
    assertNotNull(runId);
    JsonNode run = api.awaitRun(runId, Duration.ofSeconds(30));
    assertEquals("cancelled", run.get("outcome").asText());
    assertEquals("invalid", run.get("run_quality").asText());
    assertEquals("[\"failed:cancelled\",\"truncated_stream\"]", run.get("quality_reasons").toString());
    assertTrue(run.get("completion_tokens").asInt() < 4000);
  }

  @Test
  void aClientThatHangsUpOnAWholeCompletionCancelsItsRun() throws Exception {
    String cancelled = "dalang_runs_total{model=\"dalang-demo\",model_version=\"\",outcome=\"cancelled\"}";
    String ok = "dalang_runs_total{model=\"dalang-demo\",model_version=\"\",outcome=\"ok\"}";
    double cancelledBefore = api.metric(cancelled);
    double okBefore = api.metric(ok);
    // A non-streaming run of 4000 tokens: nothing is sent to the client until it ends, so only the
    // connection's end can tell Dalang that nobody waits for it any more.
    api.postThenHangUp("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"On and on\", \"max_tokens\": 4000}");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (api.metric(cancelled) < cancelledBefore + 1) {
      assertTrue(System.nanoTime() < deadline, "the run of a client that hung up was not cancelled within 30 s");
      Thread.sleep(50);
    }
    assertEquals(okBefore, api.metric(ok), "the run went on to its end although its client was gone");
  }

  @Test
  void aClientThatHalfClosesGetsItsAnswerOrATypedCancellationNeverA5xx() throws Exception {
    // On the wire a half-close (FIN after the request) looks like a hang-up until the server writes;
    // like Go's net/http and uvicorn, Dalang takes it for one when it sees it before the run ended.
    // Whichever comes first, the client that still reads gets a complete answer or 499 cancelled.
    String response = api.postHalfClosed("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"Once\", \"max_tokens\": 200}");
    JsonNode body = ApiClient.json(response.substring(response.indexOf("\r\n\r\n") + 4));
    if (response.startsWith("HTTP/1.1 200 OK\r\n")) {
      assertEquals(200, body.at("/usage/completion_tokens").asInt(), body.toString());
      assertEquals("length", body.at("/choices/0/finish_reason").asText());
    } else {
      assertTrue(response.startsWith("HTTP/1.1 499 "), response);
      assertEquals("cancelled", body.at("/error/code").asText(), body.toString());
    }
  }

  @Test
  void operationalEndpointsDescribeTheNode() throws Exception {
    assertEquals(200, api.withKey(null).get("/healthz").statusCode());
    var ready = ApiClient.json(api.withKey(null).get("/readyz").body());
    assertEquals("ready", ready.get("status").asText());
    var models = ApiClient.json(api.get("/v1/models").body());
    assertEquals("dalang-demo", models.at("/data/0/id").asText());
    var caps = ApiClient.json(api.get("/v1/capabilities").body());
    assertTrue(caps.get("engines").toString().contains("llama-inprocess"));
    assertEquals("dalang-demo", caps.at("/models/0/id").asText());
    assertEquals(4096, caps.at("/models/0/context_length").asInt());
    assertEquals("Ready", caps.at("/models/0/slots/0/state").asText());
    assertEquals("cpu", caps.at("/devices/0/kind").asText());
    api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"x\", \"max_tokens\": 2}");
    var metrics = api.withKey(null).get("/metrics");
    assertEquals(200, metrics.statusCode());
    assertTrue(metrics.body().contains("dalang_runs_total{model=\"dalang-demo\",model_version=\"\",outcome=\"ok\"}"), metrics.body());
    assertTrue(metrics.body().contains("dalang_ttft_ms_bucket"), "TTFT is a histogram");
    assertTrue(metrics.body().contains("dalang_placement_decision_seconds_bucket"), "placement latency is a histogram");
    assertTrue(metrics.body().contains("dalang_placement_cache_total{result=\"hit\"}"), metrics.body());
    assertTrue(metrics.body().contains("dalang_admissions_total{outcome=\"dispatched\",pool=\"demo\",reason=\"\"}"), metrics.body());
    assertTrue(metrics.body().contains("dalang_queue_depth{pool=\"demo\",tenant=\"demo\"}"), metrics.body());
    assertTrue(metrics.body().contains("dalang_inter_token_latency_ms_bucket"), metrics.body());
    assertTrue(metrics.body().contains("dalang_slots{model=\"dalang-demo\",pool=\"demo\",state=\"Ready\"} 1.0"), metrics.body());
  }

  @Test
  void anotherProcessReadsTheJournalWhileServeRuns() throws Exception {
    api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"x\", \"max_tokens\": 2}");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), "io.dalang.runtime.Main", "status",
        "--data-dir", data.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.matches("(?s).*Tenant\\s+[23] entities.*"), out); // demo, platform, and another test may add one
    assertTrue(out.matches("(?s).*ModelSlot\\s+2 entities.*"), out); // the demo's chat and embedding pools
    assertTrue(out.contains("runs: ") && out.contains("dalang-demo"), out);
  }

  @Test
  void theDemoKeyFileIsPrivateAndHoldsTheKey() throws Exception {
    Path f = data.resolve("demo.key");
    assertEquals(KEY, Files.readString(f).strip());
    assertEquals(Set.of(java.nio.file.attribute.PosixFilePermission.OWNER_READ, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE),
        Files.getPosixFilePermissions(f), PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
  }

  @Test
  void aRestartOnTheSameDataDirKeepsTenantKeyAndPool(@TempDir Path own) throws Exception {
    String key;
    try (var first = DalangNode.start(ServeOptions.forDataDir(own).withPorts(0, 0), System.out)) {
      key = first.demoKey();
      assertNotNull(key, "a fresh data dir creates and prints a key");
      assertEquals(key, Files.readString(own.resolve("demo.key")).strip());
    }
    try (var second = DalangNode.start(ServeOptions.forDataDir(own).withPorts(0, 0), System.out)) {
      assertEquals(null, second.demoKey(), "the key is not created again");
      var client = new ApiClient(second.httpPort(), key);
      client.awaitReady(Duration.ofSeconds(90));
      var r = client.post("/v1/chat/completions", CHAT.formatted(""));
      assertEquals(200, r.statusCode(), r.body());
      var pool = ClusterSharding.get(second.system()).entityRefFor(PoolEntity.ENTITY_KEY, "demo")
          .<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
      assertEquals(1, pool.slots().size(), "the pool's replica was recovered, not placed again");
    }
  }
}
