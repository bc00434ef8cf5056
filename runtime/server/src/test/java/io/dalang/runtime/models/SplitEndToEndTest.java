package io.dalang.runtime.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An A/B split on a running node: a pool on {@code tiny@v1} serves {@code tiny@v2} beside it with 20 % of
 * the runs, which its run records show within a stated tolerance, and the split is then promoted to a
 * rollout that ends on v2.
 */
class SplitEndToEndTest {
  static final int RUNS = 800;
  static final int PERCENT = 20;
  /** 800 runs at 20 %: the standard deviation of the share is 1.4 points; 5 points is over 3.5 of them. */
  static final double TOLERANCE = 5.0;

  @TempDir Path dir;

  @Test
  void routesTheSplitsShareOfRunsToTheNewVersionAndPromotesIt() throws Exception {
    Path v1 = dir.resolve("v1.gguf");
    Path v2 = dir.resolve("v2.gguf");
    TinyModel.write(new TinyModel.Spec(41, 2, 64, 4, 4, 128, 4096, GgmlType.F32), v1);
    TinyModel.write(new TinyModel.Spec(42, 2, 64, 4, 4, 128, 4096, GgmlType.F32), v2);
    Path conf = Files.writeString(dir.resolve("node.conf"), """
        dalang.demo.embed-pool = ""
        dalang.demo.replicas = 0
        dalang.placement.reconcile-interval = 1 s
        """);
    try (var node = DalangNode.start(new ServeOptions(dir.resolve("d"), 0, 0, 0, conf, null, "ab-" + System.nanoTime()), System.out)) {
      var admin = new ApiClient(node.httpPort(), Files.readString(dir.resolve("d").resolve("admin.key")).strip());
      var user = admin.withKey(node.demoKey());
      for (var v : List.of(v1, v2)) {
        var id = ApiClient.json(admin.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + v + "\"}").body()).get("id").asText();
        admin.awaitJson("/admin/v1/model-imports/" + id, i -> i.path("status").asText().equals("done"), Duration.ofSeconds(180));
      }
      assertEquals(201, admin.post("/admin/v1/pools", "{\"id\": \"cat\", \"model\": \"tiny@v1\", \"replicas\": 2, \"parallel\": 2, "
          + "\"context_per_sequence\": 1024, \"threads\": 1}").statusCode());
      assertEquals(200, admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"cat\"}").statusCode());

      assertEquals(400, admin.send("PATCH", "/admin/v1/pools/cat", "{\"split\": {\"v1\": 80, \"v2\": 30}}").statusCode(), "adds up to 100");
      assertEquals(400, admin.send("PATCH", "/admin/v1/pools/cat", "{\"split\": {\"v2\": 50, \"v3\": 50}}").statusCode(), "names the pool's version");
      var started = admin.send("PATCH", "/admin/v1/pools/cat", "{\"split\": {\"v1\": " + (100 - PERCENT) + ", \"v2\": " + PERCENT + "}}");
      assertEquals(202, started.statusCode(), started.body());
      var rollout = ApiClient.json(started.body()).get("rollout");
      assertEquals("split", rollout.get("phase").asText());
      assertEquals(PERCENT, rollout.get("split_percent").asInt());
      admin.awaitJson("/admin/v1/pools/cat", p -> ApiClient.readySlots(p) == 3, Duration.ofSeconds(180));

      var runIds = new CopyOnWriteArrayList<String>();
      var failures = new CopyOnWriteArrayList<String>();
      var pool = Executors.newFixedThreadPool(4);
      for (int i = 0; i < RUNS; i++) {
        pool.submit(() -> {
          try {
            var r = user.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Hi\", \"max_tokens\": 1, \"temperature\": 0}");
            if (r.statusCode() == 200) runIds.add(r.headers().firstValue("x-dalang-run-id").orElseThrow());
            else failures.add(r.statusCode() + " " + r.body());
          } catch (Exception e) {
            failures.add(e.toString());
          }
        });
      }
      pool.shutdown();
      assertTrue(pool.awaitTermination(5, TimeUnit.MINUTES));
      assertEquals(List.of(), failures);
      Map<String, Integer> byVersion = new ConcurrentHashMap<>();
      for (String id : runIds) byVersion.merge(user.awaitRun(id, Duration.ofSeconds(10)).path("model_version").asText(), 1, Integer::sum);
      double share = 100.0 * byVersion.getOrDefault("tiny@v2", 0) / RUNS;
      assertEquals(RUNS, byVersion.getOrDefault("tiny@v1", 0) + byVersion.getOrDefault("tiny@v2", 0), byVersion.toString());
      assertTrue(Math.abs(share - PERCENT) <= TOLERANCE, "tiny@v2 served " + share + " % of the runs, asked " + PERCENT + " % ± " + TOLERANCE
          + ": " + byVersion);

      // So do the node's metrics, by model_version.
      double v2Metric = admin.metric("dalang_runs_total{model=\"tiny\",model_version=\"tiny@v2\",outcome=\"ok\"}");
      assertTrue(v2Metric >= byVersion.get("tiny@v2") && v2Metric < byVersion.get("tiny@v2") + 10, v2Metric + " vs " + byVersion);

      // The rollout's status shows each version's figures from the same runs.
      var figures = ApiClient.json(admin.get("/admin/v1/pools/cat/rollout").body()).get("versions");
      assertEquals("tiny@v1", figures.get(0).get("version").asText());
      assertEquals("tiny@v2", figures.get(1).get("version").asText());
      assertEquals((int) byVersion.getOrDefault("tiny@v2", 0), figures.get(1).get("runs").asInt(), figures.toString());
      assertEquals(RUNS, figures.get(0).get("runs").asInt() + figures.get(1).get("runs").asInt(), figures.toString());
      assertEquals(0, figures.get(1).get("errors").asInt());
      assertTrue(figures.get(1).get("ttft_p95_ms").asDouble() > 0, figures.toString()); // one-token runs: no tokens/s

      // Promoted: it rolls on like a rollout and ends on v2.
      var promoted = admin.post("/admin/v1/pools/cat/rollout/promote", "");
      assertEquals(200, promoted.statusCode(), promoted.body());
      var done = admin.awaitJson("/admin/v1/pools/cat/rollout", r -> r.path("phase").asText().matches("done|rolled-back"), Duration.ofSeconds(180));
      assertEquals("done", done.get("phase").asText(), done.toString());
      assertEquals("tiny@v2", ApiClient.json(admin.get("/admin/v1/pools/cat").body()).get("model").asText());
      assertEquals(409, admin.post("/admin/v1/pools/cat/rollout/promote", "").statusCode(), "nothing left to promote");
      var audit = ApiClient.json(admin.get("/admin/v1/audit?action=pool.split.start").body()).get("events");
      assertEquals(1, audit.size());
    }
  }
}
