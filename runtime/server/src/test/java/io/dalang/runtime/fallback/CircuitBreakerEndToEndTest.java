package io.dalang.runtime.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slot's circuit breaker against a real engine failure: a llama-server killed under a run opens the
 * breaker (threshold 1 here), the next run is refused at once with {@code engine_unavailable} and
 * {@code circuit_open} in its placement narration, and once the open duration passed one probe run goes
 * through and closes it. Each step waits on the breaker's gauge, not on time.
 */
class CircuitBreakerEndToEndTest {
  static final String KEY = "cb-" + Long.toHexString(System.nanoTime());

  @Test
  void aKilledEngineOpensItsSlotsBreakerAndASuccessfulProbeClosesIt(@TempDir Path data) throws Exception {
    TestModels.llamaServer();
    Path conf = data.resolve("breaker.conf");
    Files.writeString(conf, "dalang.breaker.failure-threshold = 1\ndalang.breaker.open-duration = 5 s\n");
    try (var node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, "llama-server", KEY), System.out)) {
      var api = new ApiClient(node.httpPort(), KEY);
      api.awaitReady(Duration.ofSeconds(120));
      // The pool's admission (and the breakers in it) starts with the pool's first run.
      assertEquals(200, api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"hi\", \"max_tokens\": 2}").statusCode());
      await("a closed breaker", () -> breakerState(api) == 0);

      // A long run; once its first token is in, its engine is killed under it.
      var resp = api.postStream("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"On and on\", \"max_tokens\": 3000, \"stream\": true}");
      assertEquals(200, resp.statusCode());
      var reader = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8));
      for (String line; (line = reader.readLine()) != null && !line.startsWith("data: "); ) { /* until the first token */ }
      ProcessHandle.of(slot(node).enginePid()).orElseThrow().destroyForcibly();
      String rest = String.join("\n", reader.lines().toList());
      assertTrue(rest.contains("engine_failed"), rest);
      await("the breaker opens", () -> breakerState(api) == 2);

      var refused = api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"hi\", \"max_tokens\": 4}");
      assertEquals(503, refused.statusCode(), refused.body());
      assertEquals("engine_unavailable", ApiClient.json(refused.body()).at("/error/code").asText());
      String runId = refused.headers().firstValue("x-dalang-run-id").orElseThrow();
      JsonNode narration = ApiClient.json(api.get("/v1/placements/" + runId).body());
      assertTrue(narration.at("/candidates/0/rejections").toString().contains("circuit_open"), narration.toString());

      await("half-open, with the engine back", () -> breakerState(api) == 1 && uncheck(() -> slot(node).ready()));
      var probe = api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"hi\", \"max_tokens\": 4}");
      assertEquals(200, probe.statusCode(), probe.body());
      await("the probe closes the breaker", () -> breakerState(api) == 0);
      String metrics = api.get("/metrics").body();
      assertTrue(metrics.contains("dalang_breaker_transitions_total{from=\"half-open\",pool=\"demo\",slot=\"demo-0\",to=\"closed\"} 1.0"), metrics);
    }
  }

  private static SlotStatus slot(DalangNode node) throws Exception {
    return node.fleet().toCompletableFuture().get(10, TimeUnit.SECONDS).slots().stream()
        .filter(s -> s.slotId().equals("demo-0")).findFirst().orElseThrow();
  }

  private static int breakerState(ApiClient api) {
    return uncheck(() -> {
      var m = Pattern.compile("^dalang_breaker_state\\{pool=\"demo\",slot=\"demo-0\"} ([0-9.]+)$", Pattern.MULTILINE)
          .matcher(api.get("/metrics").body());
      return m.find() ? (int) Double.parseDouble(m.group(1)) : -1;
    });
  }

  private interface Check<T> {
    T get() throws Exception;
  }

  private static <T> T uncheck(Check<T> c) {
    try {
      return c.get();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) throw new AssertionError("not within 90 s: " + what);
      Thread.sleep(50);
    }
  }
}
