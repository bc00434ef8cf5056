package io.dalang.runtime.jobs;

import static io.dalang.runtime.testing.DalangProcess.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.EmbeddedJournal;
import io.dalang.runtime.serve.ServeOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code kill -9} of the whole runtime in the middle of hundreds of jobs: after a restart on the
 * same data dir, every job that was acknowledged (202) finishes exactly once or is dead-lettered, as
 * the journal itself shows (one {@code JobSubmitted} per job, at most one {@code JobSucceeded}).
 *
 * <p>Named {@code *Test}, not {@code *IT}: this build runs no Failsafe yet, and the test must run.
 */
class JobKillRecoveryIT {
  static final int JOBS = 300;
  static final String KEY = "kill-" + Long.toHexString(System.nanoTime());
  static final String BODY = """
      {"model": "dalang-demo", "prompt": "Job %d: once upon a time", "max_tokens": 3, "temperature": 0, "seed": %d}""";

  @Test
  void everyAcknowledgedJobFinishesExactlyOnceOrIsDeadLetteredAfterTheJvmIsKilled(@TempDir Path data) throws Exception {
    int http = freePort();
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    Process first = serve(data, http, "serve-1.log");
    Instant restarted;
    Process second = null;
    try {
      var api = new ApiClient(http, KEY);
      api.awaitReady(Duration.ofSeconds(90));
      submitAndKill(api, first, acknowledged);
      restarted = Instant.now();
      second = serve(data, http, "serve-2.log");
      api.awaitReady(Duration.ofSeconds(90));
      assertTrue(acknowledged.size() >= JOBS / 2, "acknowledged before the kill: " + acknowledged.size());

      Map<String, JsonNode> finished = awaitAll(api, acknowledged, Duration.ofSeconds(90));
      var admin = api.withKey(Files.readString(data.resolve("admin.key")).strip());
      Set<String> queue = new HashSet<>();
      for (JsonNode j : ApiClient.json(admin.get("/admin/v1/dlq").body()).get("jobs")) queue.add(j.get("id").asText());
      int afterRestart = 0;
      int interrupted = 0;
      for (var e : finished.entrySet()) {
        JsonNode job = e.getValue();
        if (job.get("state").asText().equals("dead_lettered")) {
          assertTrue(queue.contains(e.getKey()), "a dead-lettered job is in the queue: " + job);
        } else if (Instant.parse(job.at("/result/created").isMissingNode() ? job.get("created_at").asText()
            : Instant.ofEpochSecond(job.at("/result/created").asLong()).toString()).isAfter(restarted.minusSeconds(1))) {
          afterRestart++;
        }
        for (JsonNode a : job.get("attempts")) if (a.at("/error/message").asText().startsWith("interrupted")) interrupted++;
      }
      System.out.printf("kill test: %d acknowledged, %d dead-lettered, %d finished after the restart, %d attempts interrupted%n",
          acknowledged.size(), queue.size(), afterRestart, interrupted);
      assertTrue(afterRestart > 0, "the kill left work for the restarted node");
    } finally {
      if (second != null) stop(second);
      first.destroyForcibly();
    }
    assertExactlyOnceInTheJournal(data, acknowledged);
  }

  /** Submits from a few clients at once and kills the JVM once five sixths are acknowledged, submissions still in flight. */
  private static void submitAndKill(ApiClient api, Process serve, Set<String> acknowledged) throws Exception {
    ExecutorService clients = Executors.newFixedThreadPool(4);
    var next = new AtomicInteger();
    for (int c = 0; c < 4; c++) {
      clients.submit(() -> {
        for (int i; (i = next.getAndIncrement()) < JOBS; ) {
          try {
            var r = api.post("/v1/jobs", BODY.formatted(i, i));
            if (r.statusCode() == 202) acknowledged.add(ApiClient.json(r.body()).get("id").asText());
          } catch (IOException e) {
            return null; // the node is gone: this submission was never acknowledged
          }
        }
        return null;
      });
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (acknowledged.size() < JOBS * 5 / 6 && System.nanoTime() < deadline) Thread.sleep(5);
    serve.destroyForcibly(); // SIGKILL: no shutdown hook, no passivation, no flush
    assertTrue(serve.waitFor(30, TimeUnit.SECONDS));
    clients.shutdown();
    assertTrue(clients.awaitTermination(60, TimeUnit.SECONDS));
  }

  private static Map<String, JsonNode> awaitAll(ApiClient api, Set<String> ids, Duration timeout) throws Exception {
    Map<String, JsonNode> finished = new HashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (finished.size() < ids.size()) {
      for (String id : ids) {
        if (finished.containsKey(id)) continue;
        var r = api.get("/v1/jobs/" + id);
        assertEquals(200, r.statusCode(), "an acknowledged job is never lost: " + id + " " + r.body());
        JsonNode job = ApiClient.json(r.body());
        String state = job.get("state").asText();
        if (state.equals("succeeded") || state.equals("dead_lettered")) finished.put(id, job);
      }
      if (System.nanoTime() > deadline) throw new AssertionError((ids.size() - finished.size()) + " jobs did not finish");
      Thread.sleep(200);
    }
    return finished;
  }

  /** The journal's own count per job: one submission, and one success unless dead-lettered. */
  private static void assertExactlyOnceInTheJournal(Path data, Set<String> acknowledged) throws Exception {
    Map<String, int[]> counts = new HashMap<>();
    var journal = EmbeddedJournal.forReader(DalangNode.config(ServeOptions.forDataDir(data)));
    try (var conn = EmbeddedJournal.connect(journal);
         var st = conn.createStatement();
         var rs = st.executeQuery("SELECT \"persistence_id\", \"event_ser_manifest\" FROM PUBLIC.\"event_journal\" "
             + "WHERE \"persistence_id\" LIKE 'Job|%'")) {
      while (rs.next()) {
        int[] c = counts.computeIfAbsent(rs.getString(1).substring(4), k -> new int[3]);
        String manifest = rs.getString(2);
        if (manifest.endsWith("$JobSubmitted")) c[0]++;
        if (manifest.endsWith("$JobSucceeded")) c[1]++;
        if (manifest.endsWith("$JobDeadLettered")) c[2]++;
      }
    }
    for (String id : acknowledged) {
      int[] c = counts.get(id);
      assertTrue(c != null && c[0] == 1, "persisted before it was acknowledged, once: " + id);
      assertTrue(c[1] + c[2] >= 1 && c[1] <= 1, id + " succeeded " + c[1] + " times, dead-lettered " + c[2] + " times");
    }
  }

  private static Process serve(Path data, int http, String log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.dalang.runtime.Main", "serve",
        "--http-port", Integer.toString(http), "--grpc-port", Integer.toString(freePort()), "--cluster-port", Integer.toString(freePort()),
        "--data-dir", data.toString());
    pb.environment().put("DALANG_DEMO_KEY", KEY);
    pb.redirectErrorStream(true).redirectOutput(data.resolve(log).toFile());
    Files.createDirectories(data);
    return pb.start();
  }

  private static void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
  }
}
