package io.dalang.runtime.models;

import static io.dalang.runtime.testing.DalangProcess.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.Digests;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.DalangProcess;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model catalog across a real cluster of three JVMs on 127.0.0.1, each with its own data dir: a
 * control node ({@code dalang serve}, control role only) holds the catalog, two GPU nodes ({@code dalang
 * node --join}) pull the blobs their slots need from it into their own model caches. The model files live
 * only in {@code origin/}, which no node is told about; they enter the catalog through {@code dalang model
 * add}. On one host the GPU nodes could read the control node's store, but a catalog slot only ever reads
 * its node's own store or cache. Steps, in one method because each builds on the last:
 * a pool on {@code tiny@v1} pulls the blob onto both nodes and serves; a damaged cached blob is detected
 * when the slot's engine starts again, deleted and pulled again; a pool on {@code tiny@v2} makes the node
 * with a one-blob quota evict the unused v1.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelDistributionIT {
  static final String DEMO_KEY = "distribution-it-" + Long.toHexString(System.nanoTime());
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
  @TempDir static Path dir;
  final Map<String, Process> processes = new LinkedHashMap<>();
  int httpPort;
  int controlClusterPort;
  ApiClient admin;
  ApiClient user;
  Path v1;
  Path v2;

  static final String CLUSTER_CONF = """
      pekko.cluster.failure-detector.heartbeat-interval = 500 ms
      pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2 s
      pekko.cluster.split-brain-resolver.stable-after = 3 s
      pekko.coordinated-shutdown.exit-jvm = on
      """;

  // The demo tenant (and its key) is wanted, its pool's replicas are not: the test's pools are the only ones placed.
  static final String CONTROL_CONF = CLUSTER_CONF + """
      dalang.node.roles = ["control"]
      dalang.demo.replicas = 0
      dalang.demo.embed-pool = ""
      dalang.placement.reconcile-interval = 1 s
      dalang.placement.settle = 2 s
      """;

  static final String GPU_CONF = CLUSTER_CONF;

  @BeforeAll
  void startCluster() throws Exception {
    v1 = dir.resolve("origin").resolve("tiny-v1.gguf");
    v2 = dir.resolve("origin").resolve("tiny-v2.gguf");
    TinyModel.write(new TinyModel.Spec(11, 2, 64, 4, 4, 128, 2048, GgmlType.F32), v1);
    TinyModel.write(new TinyModel.Spec(12, 2, 64, 4, 4, 128, 2048, GgmlType.F32), v2);
    assertEquals(Files.size(v1), Files.size(v2), "both versions are the same size, so the quota below holds exactly one");
    Files.writeString(dir.resolve("control.conf"), CONTROL_CONF);
    Files.writeString(dir.resolve("gpu1.conf"), GPU_CONF);
    // Room for one blob, not two.
    Files.writeString(dir.resolve("gpu2.conf"), GPU_CONF + "dalang.node.model-cache.max-bytes = " + (Files.size(v1) * 3 / 2) + "\n");

    httpPort = freePort();
    controlClusterPort = freePort();
    start("control", List.of("serve", "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(freePort()),
        "--cluster-port", Integer.toString(controlClusterPort), "--data-dir", dir.resolve("control").toString(),
        "--config", dir.resolve("control.conf").toString()));
    awaitHealthy(START_TIMEOUT);
    admin = new ApiClient(httpPort, Files.readString(dir.resolve("control").resolve("admin.key")).strip());
    user = admin.withKey(DEMO_KEY);
    for (String gpu : List.of("gpu1", "gpu2")) {
      assertEquals(0, run(gpu + "-certs", List.of("cluster", "certs", "issue", "--ca-dir", dir.resolve("control").resolve("cluster-tls").toString(),
          "--out", dir.resolve(gpu + "-tls").toString(), "--name", gpu)).waitFor(), "dalang cluster certs issue");
    }
    for (String gpu : List.of("gpu1", "gpu2")) {
      start(gpu, List.of("node", "--join", "127.0.0.1:" + controlClusterPort, "--cluster-port", Integer.toString(freePort()),
          "--data-dir", dir.resolve(gpu).toString(), "--devices", "cpu0:cpu:2048", "--config", dir.resolve(gpu + ".conf").toString(),
          "--cluster-tls", dir.resolve(gpu + "-tls").toString()));
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (Process p : processes.values()) p.destroy();
    for (Process p : processes.values()) {
      if (!p.waitFor(20, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void gpuNodesPullCatalogBlobsRepullADamagedOneAndEvictAnUnusedOneUnderTheirQuota() throws Exception {
    try {
      String d1 = Digests.sha256(v1);
      String d2 = Digests.sha256(v2);
      addModel("add-v1", v1, "tiny@v1");
      addModel("add-v2", v2, "tiny@v2");
      for (String gpu : List.of("gpu1", "gpu2")) awaitFile(dir.resolve(gpu).resolve("node.pid"), START_TIMEOUT); // written once registered
      String gpu1 = nodeId("gpu1");
      String gpu2 = nodeId("gpu2");

      // 1. A pool on tiny@v1, one replica per GPU node: each pulls the blob into its own cache, and the pool serves.
      var created = admin.post("/admin/v1/pools", "{\"id\": \"cat\", \"model\": \"tiny@v1\", \"replicas\": 2, \"parallel\": 1, "
          + "\"context_per_sequence\": 2048, \"threads\": 1}");
      assertEquals(201, created.statusCode(), created.body());
      assertEquals(200, admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"cat\"}").statusCode());
      assertEquals(Set.of(gpu1, gpu2), Set.copyOf(awaitReadySlots("cat", 2).values()), "one replica on each GPU node");
      for (String gpu : List.of("gpu1", "gpu2")) {
        assertEquals(d1, Digests.sha256(cached(gpu, d1)), gpu + " holds v1's blob, intact");
        assertTrue(log(gpu).contains("pulled model blob " + d1.substring(0, 12)), gpu + " pulled v1's blob");
      }
      for (int i = 0; i < 4; i++) {
        var r = user.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Hello\", \"max_tokens\": 3, \"temperature\": 0}");
        assertEquals(200, r.statusCode(), r.body());
      }

      // 2. gpu1's cached blob is damaged in place (same size): when its slot's engine starts again, the blob is pulled again.
      flipAByte(cached("gpu1", d1));
      scale("cat", 0);
      awaitNoSlots("cat");
      scale("cat", 2);
      assertEquals(Set.of(gpu1, gpu2), Set.copyOf(awaitReadySlots("cat", 2).values()), "one replica on each GPU node again");
      assertEquals(d1, Digests.sha256(cached("gpu1", d1)), "gpu1's blob was pulled again");
      assertTrue(log("gpu1").lines().anyMatch(l -> l.contains("model blob " + d1.substring(0, 12)) && l.contains("is damaged")),
          "gpu1 says its blob was damaged");
      assertEquals(2, count(log("gpu1"), "pulled model blob " + d1.substring(0, 12)), "gpu1 pulled v1 twice");
      assertEquals(1, count(log("gpu2"), "pulled model blob " + d1.substring(0, 12)), "gpu2 kept its intact copy");
      var r = user.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Hello\", \"max_tokens\": 3, \"temperature\": 0}");
      assertEquals(200, r.statusCode(), r.body());

      // 3. v1 unused, a pool on tiny@v2: gpu2's quota holds one blob, so it evicts v1 to pull v2; gpu1 has no quota and keeps both.
      scale("cat", 0);
      awaitNoSlots("cat");
      var second = admin.post("/admin/v1/pools", "{\"id\": \"cat2\", \"model\": \"tiny@v2\", \"replicas\": 2, \"parallel\": 1, "
          + "\"context_per_sequence\": 2048, \"threads\": 1}");
      assertEquals(201, second.statusCode(), second.body());
      assertEquals(Set.of(gpu1, gpu2), Set.copyOf(awaitReadySlots("cat2", 2).values()), "one replica on each GPU node");
      assertEquals(d2, Digests.sha256(cached("gpu2", d2)), "gpu2 holds v2's blob");
      assertFalse(Files.exists(cachePath("gpu2", d1)), "gpu2 evicted v1's blob");
      assertTrue(log("gpu2").contains("model cache: evicted blob " + d1.substring(0, 12)), "gpu2 logged the eviction");
      assertEquals(d1, Digests.sha256(cached("gpu1", d1)), "gpu1 (no quota) keeps v1");
      assertEquals(d2, Digests.sha256(cached("gpu1", d2)), "gpu1 holds v2");
      assertFalse(log("gpu1").contains("model cache: evicted blob"), "gpu1 evicted nothing");
    } catch (Throwable t) {
      dumpLogs();
      throw t;
    }
  }

  /** {@code dalang model add tiny --from FILE} against the control node, as an operator runs it. */
  private void addModel(String name, Path file, String expected) throws Exception {
    Process p = run(name, List.of("model", "add", "tiny", "--from", file.toString(), "--url", "http://127.0.0.1:" + httpPort,
        "--key", Files.readString(dir.resolve("control").resolve("admin.key")).strip()));
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "dalang model add finished");
    assertEquals(0, p.exitValue(), "dalang model add: " + log(name));
    assertTrue(log(name).contains("added " + expected + " "), log(name));
  }

  private void scale(String pool, int replicas) throws Exception {
    var r = admin.send("PATCH", "/admin/v1/pools/" + pool, "{\"replicas\": " + replicas + "}");
    assertEquals(200, r.statusCode(), r.body());
  }

  private Path cachePath(String gpu, String digest) {
    return dir.resolve(gpu).resolve("model-cache").resolve("sha256").resolve(digest);
  }

  private Path cached(String gpu, String digest) {
    Path p = cachePath(gpu, digest);
    assertTrue(Files.isRegularFile(p), gpu + " has no cached blob " + digest);
    return p;
  }

  private static void flipAByte(Path file) throws IOException {
    try (var f = new RandomAccessFile(file.toFile(), "rw")) {
      long at = f.length() / 2;
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0xFF);
    }
  }

  private static long count(String text, String needle) {
    return text.lines().filter(l -> l.contains(needle)).count();
  }

  // Cluster state

  /** Waits until exactly {@code n} of the pool's slots are Ready; returns slot → node id. */
  private Map<String, String> awaitReadySlots(String pool, int n) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    JsonNode view = null;
    while (System.nanoTime() < deadline) {
      assertAlive();
      view = poolView(pool);
      var ready = new HashMap<String, String>();
      for (JsonNode s : view.path("slots")) {
        if (s.path("state").asText().equals("Ready")) ready.put(s.path("slot_id").asText(), s.path("node").asText());
      }
      if (ready.size() == n && view.path("slots").size() == n) return ready;
      Thread.sleep(500);
    }
    throw new AssertionError("pool " + pool + " has not " + n + " Ready slots within " + READY_TIMEOUT + ": " + view);
  }

  private void awaitNoSlots(String pool) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    JsonNode view = null;
    while (System.nanoTime() < deadline) {
      view = poolView(pool);
      if (view.path("slots").isEmpty()) return;
      Thread.sleep(300);
    }
    throw new AssertionError("pool " + pool + " still has slots after " + READY_TIMEOUT + ": " + view);
  }

  private JsonNode poolView(String pool) throws Exception {
    var r = admin.get("/admin/v1/pools/" + pool);
    assertEquals(200, r.statusCode(), r.body());
    return ApiClient.json(r.body());
  }

  private void assertAlive() {
    processes.forEach((name, p) -> assertTrue(p.isAlive(), name + " exited"));
  }

  // Processes (as in ClusterIT)

  private void start(String name, List<String> args) throws IOException {
    processes.put(name, run(name, args));
  }

  /** {@code dalang ARGS} in a JVM of its own, its output in {@code <name>.log}. */
  private Process run(String name, List<String> args) throws IOException {
    var env = new java.util.HashMap<String, String>();
    env.put("DALANG_DEMO_KEY", DEMO_KEY);
    env.put("DALANG_MODEL_CACHE_MAX_BYTES", null); // the quota is the test's
    return DalangProcess.start(dir, name, args, env);
  }


  private void awaitFile(Path f, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!Files.exists(f)) {
      assertAlive();
      if (System.nanoTime() > deadline) fail(f + " did not appear within " + timeout);
      Thread.sleep(200);
    }
  }

  private void awaitHealthy(Duration timeout) throws Exception {
    var probe = new ApiClient(httpPort, null);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      assertTrue(processes.get("control").isAlive(), "the control node exited: " + log("control"));
      try {
        if (probe.get("/healthz").statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    fail("the control node did not answer within " + timeout);
  }

  private String nodeId(String name) throws IOException {
    return Files.readString(dir.resolve(name).resolve("node.id")).strip();
  }

  private static String log(String name) throws IOException {
    Path f = dir.resolve(name + ".log");
    return Files.exists(f) ? Files.readString(f) : "";
  }

  private void dumpLogs() {
    for (String name : List.of("control", "gpu1", "gpu2", "add-v1", "add-v2")) {
      Path log = dir.resolve(name + ".log");
      if (!Files.exists(log)) continue;
      try {
        List<String> lines = Files.readAllLines(log);
        System.out.println("----- " + name + " (last 120 lines) -----");
        lines.subList(Math.max(0, lines.size() - 120), lines.size()).forEach(System.out::println);
      } catch (IOException e) {
        System.out.println("----- " + name + ": unreadable log (" + e.getMessage() + ")");
      }
    }
  }
}
