package io.dalang.runtime.cluster;

import static io.dalang.runtime.testing.DalangProcess.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.DalangProcess;
import io.dalang.runtime.tls.ClusterTls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real cluster of three JVMs on 127.0.0.1: a control node ({@code dalang serve} with the control role
 * only, so it runs no engines) and two GPU nodes ({@code dalang node --join}) with one CPU device each,
 * running the in-process llama.cpp engine on the generated demo model. The demo pool has two replicas.
 * One GPU node is killed with SIGKILL while requests stream; the split brain resolver downs it, its slot
 * is lost and placed again on the survivor, and every request that was accepted ends either complete or
 * with a typed error. Then a third GPU node joins and the survivor is drained ({@code dalang node
 * drain}): its streams finish, it leaves, and the replicas move to the new node. The cluster transport runs
 * mutual TLS (the default): the control node makes the cluster CA on first start, each GPU node gets a
 * certificate from {@code dalang cluster certs issue}, and a node holding a certificate of another CA
 * never joins.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterIT {
  static final String KEY = "cluster-it-" + Long.toHexString(System.nanoTime());
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  @TempDir static Path dir;
  final Map<String, Process> processes = new LinkedHashMap<>();
  int controlClusterPort;
  ApiClient api;

  // Failure detection and downing in seconds, not the production defaults, so the test sees a loss quickly.
  static final String CLUSTER_CONF = """
      pekko.cluster.failure-detector.heartbeat-interval = 500 ms
      pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2 s
      pekko.cluster.split-brain-resolver.stable-after = 3 s
      pekko.coordinated-shutdown.exit-jvm = on
      """;

  static final String CONTROL_CONF = CLUSTER_CONF + """
      dalang.node.roles = ["control"]
      dalang.demo.replicas = 2
      # Only the chat pool: the test counts its replicas across the GPU nodes.
      dalang.demo.embed-pool = ""
      dalang.demo.parallel = 2
      dalang.demo.context-per-sequence = 2048
      dalang.placement.reconcile-interval = 1 s
      # The two GPU nodes start together: give the later one time to join before replicas are placed.
      dalang.placement.settle = 6 s
      dalang.runs.stall-timeout = 30 s
      """;

  @BeforeAll
  void startCluster() throws Exception {
    Files.writeString(dir.resolve("cluster.conf"), CLUSTER_CONF);
    Files.writeString(dir.resolve("control.conf"), CONTROL_CONF);
    int http = freePort();
    controlClusterPort = freePort();
    start("control", List.of("serve", "--http-port", Integer.toString(http), "--grpc-port", Integer.toString(freePort()),
        "--cluster-port", Integer.toString(controlClusterPort), "--data-dir", dir.resolve("control").toString(),
        "--config", dir.resolve("control.conf").toString()));
    api = new ApiClient(http, KEY);
    awaitHealthy(START_TIMEOUT);
    // Certificates first, then both nodes at once: they must join within dalang.placement.settle of each other.
    for (String gpu : List.of("gpu1", "gpu2")) issueCertificate(gpu);
    for (String gpu : List.of("gpu1", "gpu2")) startNode(gpu, dir.resolve(gpu + "-tls"));
  }

  /** A certificate for GPU node {@code name} from the cluster CA, through the CLI, in {@code <name>-tls}. */
  private void issueCertificate(String name) throws Exception {
    assertEquals(0, run(name + "-certs", List.of("cluster", "certs", "issue", "--ca-dir", dir.resolve("control").resolve("cluster-tls").toString(),
        "--out", dir.resolve(name + "-tls").toString(), "--name", name)).waitFor(), "dalang cluster certs issue");
  }

  private void startNode(String name, Path tls) throws IOException {
    start(name, List.of("node", "--join", "127.0.0.1:" + controlClusterPort, "--cluster-port", Integer.toString(freePort()),
        "--data-dir", dir.resolve(name).toString(), "--devices", "cpu0:cpu:2048", "--config", dir.resolve("cluster.conf").toString(),
        "--cluster-tls", tls.toString()));
  }

  @Test
  void aNodeWithACertificateOfAnotherCaNeverJoinsAndTheClusterKeepsServing() throws Exception {
    try {
      // A self-made CA and a certificate it signed, in the layout `dalang cluster certs issue` writes.
      ClusterTls.createAuthority(dir.resolve("rogue-tls"), "rogue");
      startNode("rogue", dir.resolve("rogue-tls"));
      long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (System.nanoTime() < end) {
        assertFalse(Files.exists(dir.resolve("rogue").resolve("node.pid")), "the rogue node registered");
        Thread.sleep(500);
      }
      String log = Files.readString(dir.resolve("rogue.log"));
      assertFalse(log.contains("cluster up"), "the rogue node became a member");
      assertTrue(log.contains("SSLHandshakeException"), "its handshakes failed");
      assertFalse(Files.exists(dir.resolve("rogue").resolve("node.id")), "the rogue node never started its agent");
      awaitReadySlots(2, START_TIMEOUT);
      completeOk(8);
    } catch (Throwable t) {
      dumpLogs();
      throw t;
    } finally {
      Process rogue = processes.remove("rogue");
      if (rogue != null) rogue.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
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
  void servesAcrossGpuNodesAndRecoversThePoolWhenOneIsKilled() throws Exception {
    try {
      // Both GPU nodes register and each hosts one of the pool's two replicas.
      Map<String, String> slots = awaitReadySlots(2, START_TIMEOUT);
      String gpu1 = nodeId("gpu1");
      String gpu2 = nodeId("gpu2");
      assertEquals(Set.of(gpu1, gpu2), Set.copyOf(slots.values()), "replicas spread over both GPU nodes: " + slots);
      for (String gpu : List.of("gpu1", "gpu2")) {
        assertFalse(Files.exists(dir.resolve(gpu).resolve("db")), gpu + " has no journal of its own");
      }

      // Requests through the control node's API are served by both nodes.
      var served = new TreeSet<String>();
      for (int round = 0; round < 3 && served.size() < 2; round++) {
        for (String runId : concurrently(6, i -> completeOk(24))) served.add(slots.get(slotOf(runId)));
      }
      assertEquals(Set.of(gpu1, gpu2), served, "runs were served on both GPU nodes");

      // SIGKILL one GPU node while streams run on both.
      String victim = slots.get("demo-0").equals(gpu1) ? "gpu1" : "gpu2";
      String survivor = victim.equals("gpu1") ? gpu2 : gpu1;
      var pool = Executors.newFixedThreadPool(8);
      List<Future<String>> inFlight = new ArrayList<>();
      for (int i = 0; i < 8; i++) inFlight.add(pool.submit(() -> streamOutcome(600)));
      Thread.sleep(700);
      processes.get(victim).destroyForcibly(); // SIGKILL on Linux
      var outcomes = new ArrayList<String>();
      for (Future<String> f : inFlight) outcomes.add(f.get(120, TimeUnit.SECONDS));
      pool.shutdown();
      for (String o : outcomes) assertTrue(o.equals("complete") || o.startsWith("error:"), "complete or a typed error: " + outcomes);
      System.out.println("ClusterIT: outcomes of the requests in flight when " + victim + " was killed: " + outcomes);

      // The dead node is downed, its slot lost and placed again: the survivor now runs both replicas.
      Map<String, String> after = awaitReadySlots(2, Duration.ofSeconds(90));
      assertEquals(Set.of(survivor), Set.copyOf(after.values()), "both replicas on the surviving node: " + after);
      assertFalse(after.containsKey("demo-0") && after.get("demo-0").equals(nodeId(victim)), "the lost slot is not served");
      for (String runId : concurrently(4, i -> completeOk(16))) assertEquals(survivor, after.get(slotOf(runId)));

      // A third GPU node joins; the survivor is drained: its streams finish, then its replicas move.
      String survivorName = victim.equals("gpu1") ? "gpu2" : "gpu1";
      issueCertificate("gpu3");
      startNode("gpu3", dir.resolve("gpu3-tls"));
      awaitFile(dir.resolve("gpu3").resolve("node.pid"), START_TIMEOUT); // written once registered
      var streams = Executors.newFixedThreadPool(4);
      List<Future<String>> draining = new ArrayList<>();
      for (int i = 0; i < 4; i++) draining.add(streams.submit(() -> streamOutcome(1500)));
      Thread.sleep(500);
      assertEquals(0, run("drain", List.of("node", "drain", "--data-dir", dir.resolve(survivorName).toString())).waitFor(),
          "dalang node drain exits 0 once the node has left");
      for (Future<String> f : draining) assertEquals("complete", f.get(120, TimeUnit.SECONDS), "a drained node finishes its streams");
      streams.shutdown();
      Map<String, String> moved = awaitReadySlots(2, Duration.ofSeconds(90));
      assertEquals(Set.of(nodeId("gpu3")), Set.copyOf(moved.values()), "both replicas moved to the new node: " + moved);
      for (String runId : concurrently(4, i -> completeOk(16))) assertEquals(nodeId("gpu3"), moved.get(slotOf(runId)));
    } catch (Throwable t) {
      dumpLogs();
      throw t;
    }
  }

  // Processes

  private void start(String name, List<String> args) throws IOException {
    processes.put(name, run(name, args));
  }

  /** {@code dalang ARGS} in a JVM of its own, its output in {@code <name>.log}. */
  private Process run(String name, List<String> args) throws IOException {
    return DalangProcess.start(dir, name, args, Map.of("DALANG_DEMO_KEY", KEY));
  }

  private static void awaitFile(Path f, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!Files.exists(f)) {
      if (System.nanoTime() > deadline) fail(f + " did not appear within " + timeout);
      Thread.sleep(200);
    }
  }


  private String nodeId(String name) throws IOException {
    return Files.readString(dir.resolve(name).resolve("node.id")).strip();
  }

  private void awaitHealthy(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      assertTrue(processes.get("control").isAlive(), "the control node exited");
      try {
        if (api.get("/healthz").statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    fail("the control node did not answer within " + timeout);
  }

  /** Waits until exactly {@code n} slots of the demo model are Ready; returns slot id → node id. */
  private Map<String, String> awaitReadySlots(int n, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    Map<String, String> ready = Map.of();
    while (System.nanoTime() < deadline) {
      ready = readySlots();
      if (ready.size() == n) return ready;
      Thread.sleep(500);
    }
    throw new AssertionError("not " + n + " Ready slots within " + timeout + ": " + ready);
  }

  private Map<String, String> readySlots() throws Exception {
    var out = new HashMap<String, String>();
    var r = api.get("/v1/capabilities");
    if (r.statusCode() != 200) return out;
    for (JsonNode m : ApiClient.json(r.body()).get("models")) {
      for (JsonNode s : m.get("slots")) if (s.get("state").asText().equals("Ready")) out.put(s.get("slot").asText(), s.get("node").asText());
    }
    return out;
  }

  // Requests

  private interface Call {
    String run(int i) throws Exception;
  }

  private static List<String> concurrently(int n, Call call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(n);
    try {
      var futures = new ArrayList<CompletableFuture<String>>();
      for (int i = 0; i < n; i++) {
        int k = i;
        futures.add(CompletableFuture.supplyAsync(() -> {
          try {
            return call.run(k);
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }, pool));
      }
      var out = new ArrayList<String>();
      for (var f : futures) out.add(f.get(120, TimeUnit.SECONDS));
      return out;
    } finally {
      pool.shutdown();
    }
  }

  private static String body(int maxTokens, boolean stream) {
    return "{\"model\": \"dalang-demo\", \"prompt\": \"The river\", \"max_tokens\": " + maxTokens + ", \"stream\": " + stream
        + (stream ? ", \"stream_options\": {\"include_usage\": true}" : "") + "}";
  }

  /** A whole completion that must succeed; returns its run id. */
  private String completeOk(int maxTokens) throws Exception {
    var r = api.post("/v1/completions", body(maxTokens, false));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals(maxTokens, ApiClient.json(r.body()).at("/usage/completion_tokens").asInt(), r.body());
    return r.headers().firstValue("x-dalang-run-id").orElseThrow();
  }

  private String slotOf(String runId) throws Exception {
    var r = api.get("/v1/runs/" + runId);
    assertEquals(200, r.statusCode(), r.body());
    return ApiClient.json(r.body()).get("slot").asText();
  }

  /**
   * One streamed completion: {@code complete} (every token, a finish reason, [DONE]), or {@code error:CODE}
   * for a typed error (an error response, or an error event in the stream). Anything else fails the test:
   * a stream that just stops is a silent truncation.
   */
  private String streamOutcome(int maxTokens) throws Exception {
    var r = api.postStream("/v1/completions", body(maxTokens, true));
    if (r.statusCode() != 200) {
      JsonNode e = ApiClient.json(new String(r.body().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)).get("error");
      assertTrue(e != null && !e.get("code").asText().isBlank(), "an error response names its code");
      return "error:" + e.get("code").asText();
    }
    List<String> data;
    try (InputStream in = r.body()) {
      data = ApiClient.sseData(in);
    }
    assertFalse(data.isEmpty(), "the stream sent nothing");
    assertEquals("[DONE]", data.get(data.size() - 1), "the stream ends with [DONE]: " + tail(data));
    JsonNode last = ApiClient.json(data.get(data.size() - 2));
    if (last.has("error")) {
      assertFalse(last.at("/error/code").asText().isBlank(), "a typed error event: " + last);
      return "error:" + last.at("/error/code").asText();
    }
    // include_usage: the usage chunk (no choices), after the chunk with the finish reason
    assertTrue(last.path("choices").isEmpty() && last.has("usage"), "the usage chunk comes last: " + tail(data));
    int tokens = last.at("/usage/completion_tokens").asInt();
    JsonNode finishChunk = ApiClient.json(data.get(data.size() - 3));
    String finish = finishChunk.at("/choices/0/finish_reason").asText();
    assertTrue(finish.equals("length") || finish.equals("stop"), "a complete stream ends with its finish reason: " + tail(data));
    assertTrue(finish.equals("stop") ? tokens <= maxTokens : tokens == maxTokens, "every token: " + tail(data));
    assertEquals(tokens, data.size() - 3, "one chunk per token before the final chunk: " + tail(data));
    return "complete";
  }

  private static List<String> tail(List<String> data) {
    return data.subList(Math.max(0, data.size() - 3), data.size());
  }

  private void dumpLogs() {
    for (String name : List.of("control", "gpu1", "gpu2", "gpu3", "drain", "rogue")) {
      Path log = dir.resolve(name + ".log");
      if (!Files.exists(log)) continue;
      try {
        List<String> lines = Files.readAllLines(log);
        System.out.println("----- " + name + " (last 80 lines) -----");
        lines.subList(Math.max(0, lines.size() - 80), lines.size()).forEach(System.out::println);
      } catch (IOException e) {
        System.out.println("----- " + name + ": unreadable log (" + e.getMessage() + ")");
      }
    }
  }
}
