package io.dalang.runtime.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rollouts on a running node while requests keep coming: a pool of two replicas on {@code tiny@v1} rolls
 * to {@code tiny@v2} (canary, health gate on its runs, rolling replacement, promotion) without one
 * failed request; then a rollout to a damaged {@code tiny@v3} (a GGUF whose architecture llama.cpp does
 * not know: its engine never starts) is rolled back on its own, again without a failed request, and
 * every step is in the audit ledger.
 */
class RolloutEndToEndTest {
  @TempDir Path dir;

  @Test
  void rollsToANewVersionWithoutAFailedRequestAndRollsBackADamagedOneOnItsOwn() throws Exception {
    Path v1 = dir.resolve("origin").resolve("v1.gguf");
    Path v2 = dir.resolve("origin").resolve("v2.gguf");
    Path v3 = dir.resolve("origin").resolve("v3.gguf");
    TinyModel.write(new TinyModel.Spec(21, 2, 64, 4, 4, 128, 4096, GgmlType.F32), v1);
    TinyModel.write(new TinyModel.Spec(22, 2, 64, 4, 4, 128, 4096, GgmlType.F32), v2);
    TinyModel.write(new TinyModel.Spec(23, 2, 64, 4, 4, 128, 4096, GgmlType.F32), v3);
    damageArchitecture(v3);
    Path conf = Files.writeString(dir.resolve("node.conf"), """
        dalang.demo.embed-pool = ""
        dalang.demo.replicas = 0
        dalang.placement.reconcile-interval = 1 s
        dalang.placement.settle = 1 s
        """);
    try (var node = DalangNode.start(new ServeOptions(dir.resolve("d"), 0, 0, 0, conf, null, "ro-" + System.nanoTime()), System.out)) {
      var admin = new ApiClient(node.httpPort(), Files.readString(dir.resolve("d").resolve("admin.key")).strip());
      var user = admin.withKey(node.demoKey());
      for (var v : List.of(v1, v2, v3)) {
        var added = ApiClient.json(admin.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + v + "\"}").body());
        var done = admin.awaitJson("/admin/v1/model-imports/" + added.get("id").asText(), i -> !i.path("status").asText().matches("queued|copying|verifying"), Duration.ofSeconds(180));
        assertEquals("done", done.get("status").asText(), done.toString());
      }
      assertEquals(201, admin.post("/admin/v1/pools", "{\"id\": \"cat\", \"model\": \"tiny@v1\", \"replicas\": 2, \"parallel\": 2, "
          + "\"context_per_sequence\": 1024, \"threads\": 1}").statusCode());
      assertEquals(200, admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"cat\"}").statusCode());
      admin.awaitJson("/admin/v1/pools/cat", p -> ApiClient.readySlots(p) == 2, Duration.ofSeconds(180));

      var traffic = new Traffic(user);
      traffic.start();
      try {
        // v1 -> v2: a canary, the gate on its first runs, then one replica at a time.
        var started = admin.send("PATCH", "/admin/v1/pools/cat", "{\"model\": \"tiny@v2\", \"health_gate\": {\"min_runs\": 3, "
            + "\"max_ttft_p95_ratio\": 100, \"min_tokens_per_second_ratio\": 0.01, \"timeout_seconds\": 120}}");
        assertEquals(202, started.statusCode(), started.body());
        assertEquals("canary", ApiClient.json(started.body()).get("rollout").get("phase").asText());
        assertEquals(409, admin.send("PATCH", "/admin/v1/pools/cat", "{\"model\": \"tiny@v3\"}").statusCode(), "one rollout at a time");
        assertEquals(409, admin.send("DELETE", "/admin/v1/models/tiny/versions/v2", null).statusCode(), "the target is in use");
        var done = admin.awaitJson("/admin/v1/pools/cat/rollout", r -> !r.path("phase").asText().matches("canary|rolling"), Duration.ofSeconds(180));
        assertEquals("done", done.get("phase").asText(), done.toString());
        var pool = admin.awaitJson("/admin/v1/pools/cat", p -> ApiClient.readySlots(p) == 2 && p.get("slots").size() == 2, Duration.ofSeconds(180));
        assertEquals("tiny@v2", pool.get("model").asText());
        assertTrue(traffic.ok.get() >= 3, "requests were served during the rollout: " + traffic.ok);
        assertEquals(List.of(), traffic.failures, "no request failed because of the rollout");

        // v2 -> v3, whose engine never starts: rolled back without anyone asking.
        assertEquals(202, admin.send("PATCH", "/admin/v1/pools/cat", "{\"model\": \"tiny@v3\", \"health_gate\": {\"max_restarts\": 1, "
            + "\"timeout_seconds\": 120}}").statusCode());
        var back = admin.awaitJson("/admin/v1/pools/cat/rollout", r -> r.path("phase").asText().equals("rolled-back"), Duration.ofSeconds(180));
        assertTrue(back.get("note").asText().contains("crash loop") || back.get("note").asText().contains("failed"), back.toString());
        pool = admin.awaitJson("/admin/v1/pools/cat", p -> ApiClient.readySlots(p) == 2 && p.get("slots").size() == 2, Duration.ofSeconds(180));
        assertEquals("tiny@v2", pool.get("model").asText(), "still on the version that works");
        int servedBefore = traffic.ok.get();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (traffic.ok.get() < servedBefore + 3 && System.nanoTime() < end) Thread.sleep(100);
        assertTrue(traffic.ok.get() >= servedBefore + 3, "still serving");
      } finally {
        traffic.stop();
      }
      assertEquals(List.of(), traffic.failures, "no request failed because of either rollout");

      for (String action : List.of("pool.rollout.start", "pool.rollout.rolling", "pool.rollout.done", "pool.rollout.rolling-back",
          "pool.rollout.rolled-back")) {
        var events = ApiClient.json(admin.get("/admin/v1/audit?action=" + action).body()).get("events");
        assertTrue(events.size() >= 1, action + " is in the audit ledger");
      }
    }
  }

  /** Renames the architecture ({@code llama} → {@code llamz}, keys included): a well-formed GGUF llama.cpp cannot load. */
  private static void damageArchitecture(Path model) throws Exception {
    byte[] b = Files.readAllBytes(model);
    byte[] from = "llama".getBytes(StandardCharsets.US_ASCII);
    int replaced = 0;
    for (int i = 0; i + from.length <= b.length; i++) {
      boolean match = true;
      for (int k = 0; k < from.length && match; k++) match = b[i + k] == from[k];
      if (match) {
        b[i + from.length - 1] = 'z';
        replaced++;
      }
    }
    assertTrue(replaced > 1, "the architecture and its keys were renamed");
    Files.write(model, b);
  }


  /**
   * Four clients sending completions one after another each, counting the served and recording every
   * other answer. Four at once: placement's ties go to the lowest slot id, so one client alone would only
   * ever reach the oldest replica, never the canary.
   */
  private static final class Traffic {
    final ApiClient user;
    final AtomicInteger ok = new AtomicInteger();
    final List<String> failures = new CopyOnWriteArrayList<>();
    final AtomicBoolean running = new AtomicBoolean(true);
    final List<Thread> threads = new java.util.ArrayList<>();

    Traffic(ApiClient user) {
      this.user = user;
    }

    void start() {
      for (int i = 0; i < 4; i++) threads.add(new Thread(() -> {
        while (running.get()) {
          try {
            var r = user.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Hello\", \"max_tokens\": 4, \"temperature\": 0}");
            if (r.statusCode() == 200) ok.incrementAndGet();
            else failures.add(java.time.LocalTime.now() + " " + r.statusCode() + " " + r.body());
          } catch (Exception e) {
            failures.add(e.toString());
          }
        }
      }, "rollout-traffic-" + i));
      threads.forEach(Thread::start);
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) t.join(30_000);
    }
  }
}
