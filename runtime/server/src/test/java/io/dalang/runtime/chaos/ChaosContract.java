package io.dalang.runtime.chaos;

import static io.dalang.runtime.testing.RunRecords.assertFailed;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.engine.chaos.Chaos;
import io.dalang.engine.chaos.ChaosPlan;
import io.dalang.engine.chaos.Fault;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.testing.ApiClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What Dalang promises under each injected fault, checked on a real node serving the demo model (each
 * engine's chaos test implements it): every accepted request ends, with its result or a typed error,
 * never a hang; a run that had not started is run again, one that streamed ends with a typed error
 * event; a killed engine is restarted by its supervisor and its slot is Ready again; run records say
 * why a run is invalid; durable jobs end succeeded or dead-lettered.
 */
interface ChaosContract {
  String SLOT = "demo-0";
  String LONG_STREAM = """
      {"model": "dalang-demo", "prompt": "On and on", "max_tokens": 400, "temperature": 0, "stream": true}""";
  String SHORT = """
      {"model": "dalang-demo", "prompt": "The tree is", "max_tokens": 8, "temperature": 0, "seed": 3}""";

  /** The node under test (slot {@link #SLOT}, fast job retries), a client of its demo tenant, and its engine's kind. */
  record Served(DalangNode node, ApiClient api, String engineKind) {}

  Served served();

  @BeforeEach
  default void slotReady() throws Exception {
    awaitRestartedAndReady(0); // whatever an earlier test did to it
  }

  @AfterEach
  default void chaosOff() {
    served().node().chaos().clear("test");
  }

  /** Puts these faults (definitions as the admin API takes them) in force on the node. */
  default void inject(Map<String, ?>... faults) {
    served().node().chaos().apply(ChaosPlan.parse(Map.of("seed", 7, "faults", List.of(faults))), "test");
  }

  /** How often the node injected the fault of that kind since it was put in force. */
  default long injected(Fault.Kind kind) {
    return served().node().chaos().status().faults().stream().filter(f -> f.fault().kind() == kind)
        .mapToLong(Chaos.FaultStatus::injected).sum();
  }

  default SlotStatus slot() throws Exception {
    return served().node().fleet().toCompletableFuture().get(10, TimeUnit.SECONDS).slots().stream()
        .filter(s -> s.slotId().equals(SLOT)).findFirst().orElseThrow();
  }

  /** Waits until the slot's engine was restarted at least {@code restarts} times and the slot is Ready. */
  default SlotStatus awaitRestartedAndReady(int restarts) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    SlotStatus s = slot();
    while (!(s.ready() && s.restarts() >= restarts)) {
      if (System.nanoTime() > deadline) throw new AssertionError("slot " + SLOT + " not Ready after " + restarts + " restarts: " + s);
      Thread.sleep(100);
      s = slot();
    }
    return s;
  }

  /** A streamed run as the client saw it: its id, the text chunks, the error object (null: none), and whether [DONE] came. */
  record Streamed(String runId, int chunks, JsonNode error, boolean done) {}

  default Streamed stream(String body) throws Exception {
    var resp = served().api().postStream("/v1/completions", body);
    assertEquals(200, resp.statusCode());
    String runId = resp.headers().firstValue("x-dalang-run-id").orElseThrow();
    int chunks = 0;
    JsonNode error = null;
    boolean done = false;
    for (String data : ApiClient.sseData(resp.body())) {
      if (data.equals("[DONE]")) {
        done = true;
        continue;
      }
      JsonNode chunk = ApiClient.json(data);
      if (chunk.has("error")) error = chunk.get("error");
      else if (!chunk.at("/choices/0/text").asText().isEmpty()) chunks++;
    }
    return new Streamed(runId, chunks, error, done);
  }

  default JsonNode run(String runId) throws Exception {
    return served().api().awaitRun(runId, Duration.ofSeconds(30));
  }

  /** A short whole completion succeeds: the slot serves again. */
  default JsonNode servesAgain() throws Exception {
    var ok = served().api().post("/v1/completions", SHORT);
    assertEquals(200, ok.statusCode(), ok.body());
    return ApiClient.json(ok.body());
  }

  @Test
  default void aDelayHoldsTokensBackAndTheRunStillCompletes() throws Exception {
    inject(Map.of("fault", "delay", "scope", "slot:" + SLOT, "first_token_delay", "300 ms", "token_delay", "10 ms", "count", 1));
    var resp = served().api().post("/v1/completions", SHORT);
    assertEquals(200, resp.statusCode(), resp.body());
    JsonNode run = run(resp.headers().firstValue("x-dalang-run-id").orElseThrow());
    assertEquals("ok", run.get("outcome").asText(), run.toString());
    assertTrue(run.get("ttft_ms").asDouble() >= 300, "the first token was held back: " + run);
    assertEquals(1, injected(Fault.Kind.DELAY));
    String metrics = served().api().withKey(null).get("/metrics").body();
    assertTrue(java.util.regex.Pattern.compile("^dalang_chaos_faults_total\\{fault=\"delay\",slot=\"" + SLOT + "\"} [1-9]", java.util.regex.Pattern.MULTILINE)
        .matcher(metrics).find(), metrics);
  }

  @Test
  default void anEngineSilentPastTheStallTimeoutEndsTheStreamWithTimeoutNotAHang() throws Exception {
    // The chaos nodes' stall timeout is 2 s; the first token is held back three times as long.
    inject(Map.of("fault", "delay", "scope", "slot:" + SLOT, "first_token_delay", "6 s", "count", 1));
    Streamed s = stream(LONG_STREAM);
    assertEquals("timeout", s.error().get("code").asText(), s.toString());
    assertTrue(s.done() && s.chunks() == 0, s.toString());
    assertFailed(run(s.runId()), "timeout", List.of("failed:timeout"));
  }

  @Test
  default void anEngineErrorBeforeTheFirstTokenIsRedispatchedAndTheRunCompletes() throws Exception {
    inject(Map.of("fault", "error", "code", "engine_unavailable", "scope", "pool:demo", "count", 1));
    var resp = served().api().post("/v1/completions", SHORT);
    assertEquals(200, resp.statusCode(), "the run was submitted to its pool again: " + resp.body());
    assertEquals(1, injected(Fault.Kind.ERROR));
    JsonNode run = run(resp.headers().firstValue("x-dalang-run-id").orElseThrow());
    assertEquals("ok", run.get("outcome").asText(), run.toString());
  }

  @Test
  default void anEngineErrorMidStreamEndsTheStreamWithThatTypedError() throws Exception {
    inject(Map.of("fault", "error", "code", "engine_failed", "after_tokens", 2, "count", 1));
    Streamed s = stream(LONG_STREAM);
    assertEquals("engine_failed", s.error().get("code").asText(), s.toString());
    assertEquals(2, s.chunks(), "the tokens before the error reached the client");
    assertTrue(s.done(), "the stream is closed properly");
    assertFailed(run(s.runId()), "engine_failed", List.of("failed:engine_failed"));
  }

  @Test
  default void aDroppedConnectionFailsTheRunTypedAndTheSlotStaysReady() throws Exception {
    int restarts = slot().restarts();
    inject(Map.of("fault", "drop", "scope", "slot:" + SLOT, "after_tokens", 3, "count", 2));
    Streamed s = stream(LONG_STREAM);
    assertEquals("engine_failed", s.error().get("code").asText(), s.toString());
    assertTrue(s.chunks() >= 3 && s.done(), s.toString());
    assertFailed(run(s.runId()), "engine_failed", List.of("failed:engine_failed"));

    var whole = served().api().post("/v1/completions", LONG_STREAM.replace("true", "false"));
    assertEquals(502, whole.statusCode(), "a dropped engine connection is the engine's failure, not the client's");
    assertEquals("engine_failed", ApiClient.json(whole.body()).at("/error/code").asText(), whole.body());
    assertEquals(2, injected(Fault.Kind.DROP));
    servesAgain();
    assertEquals(restarts, slot().restarts(), "a dropped connection does not restart the engine");
    assertTrue(slot().ready());
  }

  @Test
  default void aKilledEngineFailsTheStreamTypedAndIsRestartedByItsSupervisor() throws Exception {
    SlotStatus before = slot();
    inject(Map.of("fault", "kill", "scope", "slot:" + SLOT, "after_tokens", 2, "count", 1));
    Streamed s = stream(LONG_STREAM);
    assertEquals("engine_failed", s.error().get("code").asText(), s.toString());
    assertTrue(s.done(), s.toString());
    assertEquals(1, injected(Fault.Kind.KILL));
    assertFailed(run(s.runId()), "engine_failed", List.of("failed:engine_failed", "engine_restarted"));

    SlotStatus after = awaitRestartedAndReady(before.restarts() + 1);
    if (before.enginePid() > 0) assertNotEquals(before.enginePid(), after.enginePid(), "a new llama-server process");
    servesAgain();
  }

  @Test
  default void aRunWhoseEngineIsKilledBeforeItStartsRunsOnTheRestartedEngine() throws Exception {
    SlotStatus before = slot();
    // Killed at dispatch, then the restarted engine fails its start twice: the supervisor backs off and retries.
    inject(Map.of("fault", "kill", "scope", "slot:" + SLOT, "count", 1),
        Map.of("fault", "error", "at", "start", "scope", "slot:" + SLOT, "count", 2));
    var resp = served().api().post("/v1/completions", SHORT);
    assertEquals(200, resp.statusCode(), "the run had not started, so it ran again: " + resp.body());
    assertEquals(1, injected(Fault.Kind.KILL));
    assertEquals(2, injected(Fault.Kind.ERROR), "two failed starts before the slot was Ready");
    assertTrue(slot().restarts() >= before.restarts() + 3, "one restart after the kill, one after each failed start");
    JsonNode run = run(resp.headers().firstValue("x-dalang-run-id").orElseThrow());
    assertEquals("ok", run.get("outcome").asText(), run.toString());
    awaitRestartedAndReady(before.restarts() + 3);
  }

  @Test
  default void durableJobsUnderFaultsEndSucceededOrDeadLettered() throws Exception {
    inject(Map.of("fault", "drop", "scope", "pool:demo", "every", 2, "count", 3),
        Map.of("fault", "error", "code", "context_length_exceeded", "every", 5, "count", 1));
    var ids = new ArrayList<String>();
    for (int i = 0; i < 6; i++) {
      var r = served().api().post("/v1/jobs", """
          {"model": "dalang-demo", "prompt": "Job %d", "max_tokens": 8, "temperature": 0}""".formatted(i));
      assertEquals(202, r.statusCode(), r.body());
      ids.add(ApiClient.json(r.body()).get("id").asText());
    }
    int failedAttempts = 0;
    int deadLettered = 0;
    for (String id : ids) {
      JsonNode job = awaitJob(id);
      String state = job.get("state").asText();
      assertTrue(state.equals("succeeded") || state.equals("dead_lettered"), job.toString());
      if (state.equals("succeeded")) assertTrue(job.hasNonNull("result"), job.toString());
      else {
        deadLettered++;
        assertEquals("context_length_exceeded", job.at("/error/code").asText(), "only the non-retriable error dead-letters: " + job);
      }
      for (JsonNode a : job.get("attempts")) if (a.at("/error/code").asText().equals("engine_failed")) failedAttempts++;
    }
    assertEquals(3, injected(Fault.Kind.DROP));
    assertEquals(3, failedAttempts, "each dropped run is one failed, retried attempt");
    assertEquals(1, deadLettered);
  }

  default JsonNode awaitJob(String id) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      var r = served().api().get("/v1/jobs/" + id);
      assertEquals(200, r.statusCode(), r.body());
      JsonNode job = ApiClient.json(r.body());
      String state = job.get("state").asText();
      if (state.equals("succeeded") || state.equals("dead_lettered")) return job;
      if (System.nanoTime() > deadline) throw new AssertionError("job " + id + " did not finish: " + job);
      Thread.sleep(50);
    }
  }
}
