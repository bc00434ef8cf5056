package io.dalang.runtime.serve;

import static io.dalang.runtime.testing.RunRecords.assertFailed;
import static io.dalang.runtime.testing.RunRecords.assertValid;
import static io.dalang.runtime.testing.RunRecords.reasons;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way a run can end leaves a record with its model time and overhead ratio, and the valid-run
 * policy's verdict: driven against a real node serving the demo model through a real llama-server
 * (killed, stopped and hung up on for real). The device sidecar reads a file the tests write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunTelemetryFailurePathsTest {
  static final String KEY = "fp-" + Long.toHexString(System.nanoTime());
  static final String LONG_STREAM = """
      {"model": "dalang-demo", "prompt": "On and on", "max_tokens": 4000, "stream": true}""";
  static final String SHORT = """
      {"model": "dalang-demo", "prompt": "The tree is", "max_tokens": 12, "temperature": 0, "seed": 3 %s}""";
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;
  Path gpu;

  @BeforeAll
  void start() throws Exception {
    TestModels.llamaServer(); // provisioned (or found in the cache) before the node's clock starts
    gpu = data.resolve("gpu.csv");
    gpuShared(0);
    Path conf = data.resolve("failure-paths.conf");
    Files.writeString(conf, """
        dalang.runs.stall-timeout = 1 s
        dalang.demo.parallel = 2
        dalang.telemetry.sidecar = "file:%s"
        dalang.telemetry.sidecar-interval = 100 ms
        """.formatted(gpu));
    node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, "llama-server", KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    api.awaitReady(Duration.ofSeconds(120));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  /** The sidecar file: one GPU, on which {@code foreign} processes that are not Dalang's compute. */
  void gpuShared(int foreign) throws Exception {
    Files.writeString(gpu, """
        index, name, utilization.gpu [%%], memory.used [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz], foreign_processes
        0, NVIDIA L4, 40 %%, 8000 MiB, 50.00 W, 50, 2040 MHz, %d
        """.formatted(foreign));
  }

  SlotStatus slot() throws Exception {
    return node.fleet().toCompletableFuture().get(10, TimeUnit.SECONDS).slots().stream()
        .filter(s -> s.slotId().equals("demo-0")).findFirst().orElseThrow();
  }

  static void signal(String sig, long pid) throws Exception {
    assertEquals(0, new ProcessBuilder("kill", "-" + sig, String.valueOf(pid)).start().waitFor());
  }

  /** A long stream whose first chunks have arrived, and its run id. */
  record Streaming(BufferedReader reader, String runId) {
    /** Reads to the end; the {@code error} object of the stream's SSE error frame, null if none. */
    JsonNode error() throws Exception {
      JsonNode error = null;
      for (String line; (line = reader.readLine()) != null; ) {
        if (line.startsWith("data: {\"error\"")) error = ApiClient.json(line.substring(6)).get("error");
      }
      return error;
    }
  }

  Streaming streaming() throws Exception {
    var resp = api.postStream("/v1/completions", LONG_STREAM);
    assertEquals(200, resp.statusCode());
    var reader = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
    for (int chunks = 0; chunks < 3; ) if (reader.readLine().startsWith("data: ")) chunks++;
    return new Streaming(reader, resp.headers().firstValue("x-dalang-run-id").orElseThrow());
  }

  JsonNode run(java.net.http.HttpResponse<?> r) throws Exception {
    return api.awaitRun(r.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
  }

  @Test
  void streamingAndWholeRunsThatEndWellAreValidWithTheEnginesTimings() throws Exception {
    var streamed = api.postStream("/v1/completions", SHORT.formatted(", \"stream\": true"));
    var events = ApiClient.sseData(streamed.body());
    assertEquals("[DONE]", events.get(events.size() - 1));
    var whole = api.post("/v1/completions", SHORT.formatted(""));
    assertEquals(200, whole.statusCode(), whole.body());
    for (var r : List.of(run(streamed), run(whole))) {
      assertValid(r);
      assertTrue(r.get("internal_from_engine").asBoolean(), r.toString());
      assertEquals(12, r.get("completion_tokens").asInt());
    }
    assertTrue(run(streamed).get("stream").asBoolean());
    assertFalse(run(whole).get("stream").asBoolean());
  }

  @Test
  void aRunWhoseDeadlinePassedBeforeItStartedTimesOutAsAllOverhead() throws Exception {
    var late = api.post("/v1/completions", SHORT.formatted(""), "x-dalang-deadline-ms", "0");
    assertEquals(504, late.statusCode(), late.body());
    var r = run(late);
    assertFailed(r, "timeout", List.of("failed:timeout"));
    assertEquals(0.0, r.get("internal_model_seconds").asDouble(), "the engine never had it");
    assertEquals(1.0, r.get("orchestration_overhead_ratio").asDouble());
  }

  @Test
  void anEngineSilentPastTheStallTimeoutTimesTheRunOutWithTheModelTimeDalangSaw() throws Exception {
    long pid = slot().enginePid();
    var s = streaming();
    signal("STOP", pid);
    JsonNode error;
    try {
      error = s.error();
    } finally {
      signal("CONT", pid);
    }
    assertEquals("timeout", error.get("code").asText(), error.toString());
    var r = api.awaitRun(s.runId(), Duration.ofSeconds(10));
    assertFailed(r, "timeout", List.of("failed:timeout"));
    assertTrue(r.get("internal_model_seconds").asDouble() > 0, "Started to the last token: " + r);
    assertFalse(r.get("internal_from_engine").asBoolean());
  }

  @Test
  void aKilledEngineFailsTheRunAsEngineRestartedAndTheSlotComesBack() throws Exception {
    long pid = slot().enginePid();
    var s = streaming();
    signal("9", pid);
    assertEquals("engine_failed", s.error().get("code").asText());
    var r = api.awaitRun(s.runId(), Duration.ofSeconds(10));
    assertFailed(r, "engine_failed", List.of("failed:engine_failed", "engine_restarted"));
    assertTrue(r.get("internal_model_seconds").asDouble() > 0, r.toString());

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    SlotStatus after = slot();
    while (System.nanoTime() < deadline && !(after.ready() && after.enginePid() != pid)) {
      Thread.sleep(100);
      after = slot();
    }
    assertTrue(after.ready(), "the other tests need the slot Ready again");
    assertNotEquals(pid, after.enginePid());
  }

  @Test
  void aClientThatHangsUpMidStreamCancelsTheRunAsATruncatedStream() throws Exception {
    String runId = api.streamThenHangUp("/v1/completions", LONG_STREAM, 5);
    var r = api.awaitRun(runId, Duration.ofSeconds(15));
    assertFailed(r, "cancelled", List.of("failed:cancelled", "truncated_stream"));
    assertTrue(r.get("completion_tokens").asInt() < 4000);
  }

  @Test
  void aRunRefusedByTheTenantsQuotaIsRecordedAsAllOverhead() throws Exception {
    var admin = api.withKey(Files.readString(data.resolve("d").resolve("admin.key")).strip());
    assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"frugal\", \"display_name\": \"F\", \"pools\": [\"demo\"]}").statusCode());
    var app = api.withKey(ApiClient.json(admin.post("/admin/v1/tenants/frugal/keys", "{\"key_id\": \"app\", \"role\": \"tenant-user\"}").body())
        .get("key").asText());
    assertEquals(200, admin.send("PUT", "/admin/v1/tenants/frugal/quotas",
        "{\"requests_per_minute\": 0, \"tokens_per_day\": 10, \"concurrent_jobs\": 0, \"queued_jobs\": 0}").statusCode());
    assertEquals(200, app.post("/v1/completions", SHORT.formatted("")).statusCode(), "spends the day's tokens");
    var refused = app.post("/v1/completions", SHORT.formatted(""));
    assertEquals(429, refused.statusCode(), refused.body());
    var r = app.awaitRun(refused.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertFailed(r, "quota_exceeded", List.of("failed:quota_exceeded"));
    assertEquals(0.0, r.get("internal_model_seconds").asDouble());
    assertEquals(1.0, r.get("orchestration_overhead_ratio").asDouble());
    assertTrue(r.get("slot").isNull(), "never placed");
  }

  @Test
  void aRunWhileAnotherProcessComputesOnTheGpuIsInvalidForContention() throws Exception {
    gpuShared(1);
    try {
      Thread.sleep(400); // a few sampling rounds
      var r = run(api.post("/v1/completions", SHORT.formatted("")));
      assertEquals("ok", r.get("outcome").asText());
      assertEquals(List.of("sidecar_contention"), reasons(r));
      assertEquals(1, r.at("/sidecar/0/foreign_processes").asInt());
    } finally {
      gpuShared(0);
      Thread.sleep(400); // later runs start on a device the sidecar saw free
    }
  }
}
