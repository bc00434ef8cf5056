package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The runtime serving the demo model through a provisioned llama-server process, and surviving that
 * process being killed; llama-server keeps the {@link RunTelemetryContract}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaServerEndToEndTest implements RunTelemetryContract {
  static final String KEY = "ls-" + Long.toHexString(System.nanoTime());
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;

  @BeforeAll
  void start() throws Exception {
    TestModels.llamaServer(); // provisioned (or found in the cache) before the clock of the node starts
    node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withEngine("llama-server").withDemoKey(KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    api.awaitReady(Duration.ofSeconds(120));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  @Override
  public Served served() {
    return new Served(node, api, "llama-server");
  }

  SlotStatus slot() throws Exception {
    return node.fleet().toCompletableFuture().get(10, TimeUnit.SECONDS).slots().stream()
        .filter(s -> s.slotId().equals("demo-0")).findFirst().orElseThrow();
  }

  @Test
  void streamsACompletionThroughLlamaServer() throws Exception {
    var resp = api.postStream("/v1/chat/completions", """
        {"model": "dalang-demo", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 12, "temperature": 0, "seed": 5, "stream": true,
         "stream_options": {"include_usage": true}}""");
    assertEquals(200, resp.statusCode());
    var data = ApiClient.sseData(resp.body());
    assertEquals("[DONE]", data.get(data.size() - 1));
    JsonNode last = ApiClient.json(data.get(data.size() - 2));
    assertEquals(12, last.at("/usage/completion_tokens").asInt());
    String runId = resp.headers().firstValue("x-dalang-run-id").orElseThrow();
    var run = ApiClient.json(api.get("/v1/runs/" + runId).body());
    assertEquals("llama-server", run.get("engine").asText());
    assertTrue(run.get("internal_from_engine").asBoolean(), "llama-server reports its own timings");
    assertEquals("llama-server", slot().engineKind());
    assertTrue(slot().engineVersion().contains("de3ff81"), slot().engineVersion());
  }

  @Test
  void aKilledEngineFailsTheRunInFlightWithATypedErrorAndComesBackReady() throws Exception {
    SlotStatus before = slot();
    assertEquals("Ready", before.state());
    long pid = before.enginePid();
    assertTrue(pid > 0);
    var resp = api.postStream("/v1/completions", """
        {"model": "dalang-demo", "prompt": "On and on", "max_tokens": 4000, "stream": true}""");
    assertEquals(200, resp.statusCode());
    var reader = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
    int chunks = 0;
    while (chunks < 3) if (reader.readLine().startsWith("data: ")) chunks++;

    assertEquals(0, new ProcessBuilder("kill", "-9", String.valueOf(pid)).start().waitFor());

    // The stream in flight ends with an SSE error object and [DONE], not a hang.
    JsonNode error = null;
    for (String line; (line = reader.readLine()) != null; ) {
      if (!line.startsWith("data: {\"error\"")) continue;
      error = ApiClient.json(line.substring(6)).get("error");
    }
    assertTrue(error != null, "the run in flight got a typed error");
    assertEquals("engine_failed", error.get("code").asText());

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    SlotStatus after = slot();
    while (System.nanoTime() < deadline && !(after.ready() && after.enginePid() != pid)) {
      Thread.sleep(200);
      after = slot();
    }
    assertEquals("Ready", after.state(), "the supervisor restarted the engine and the slot is Ready again");
    assertNotEquals(pid, after.enginePid());
    assertTrue(after.restarts() >= 1, "the restart was counted");
    var ok = api.post("/v1/completions", """
        {"model": "dalang-demo", "prompt": "The tree is", "max_tokens": 4}""");
    assertEquals(200, ok.statusCode(), ok.body());
  }
}
