package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.runtime.testing.ApiClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slot with one sequence, kept busy: queued runs leave its pool's admission queue by priority. The
 * pool commits {@code dalang.admission.engine-lookahead} runs (1 here) to a busy slot ahead of time;
 * every later one is still ordered by priority.
 */
class AdmissionEndToEndTest {

  @Test
  void anInteractiveRunOvertakesEarlierBatchRunsBeyondTheLookaheadAtABusySlot(@TempDir Path data) throws Exception {
    Path conf = data.resolve("one-sequence.conf");
    Files.writeString(conf, "dalang.demo.parallel = 1\ndalang.admission.engine-lookahead = 1\n");
    String key = "adm-" + Long.toHexString(System.nanoTime());
    try (var node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, null, key), System.out)) {
      new ApiClient(node.httpPort(), key).awaitReady(Duration.ofSeconds(90));
      var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      java.util.function.BiFunction<String, String, CompletableFuture<String>> send = (priority, maxTokens) -> {
        var req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/v1/completions"))
            .header("Authorization", "Bearer " + key).header("x-dalang-priority", priority)
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"dalang-demo\", \"prompt\": \"On and on\", \"max_tokens\": "
                + maxTokens + ", \"temperature\": 0}")).build();
        return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
          assertEquals(200, r.statusCode(), r.body());
          return r.headers().firstValue("x-dalang-run-id").orElseThrow();
        });
      };
      var blocker = send.apply("interactive", "3000");
      Thread.sleep(300); // the blocker holds the only sequence
      var early = send.apply("batch", "8");
      Thread.sleep(100); // committed to the busy slot as its one lookahead run
      var batch = send.apply("batch", "8");
      Thread.sleep(100); // queued in the pool, before the interactive run
      var interactive = send.apply("interactive", "8");
      var api = new ApiClient(node.httpPort(), key);
      // When each run started on the engine: received + time queued (pool queue and engine), from its record.
      java.util.function.Function<String, Double> startOf = runId -> {
        try {
          var run = ApiClient.json(api.get("/v1/runs/" + runId).body());
          return run.get("received_at_epoch_ms").asDouble() + run.get("queue_ms").asDouble();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      double earlyStart = startOf.apply(early.get(60, TimeUnit.SECONDS));
      double batchStart = startOf.apply(batch.get(60, TimeUnit.SECONDS));
      double interactiveStart = startOf.apply(interactive.get(60, TimeUnit.SECONDS));
      double blockerStart = startOf.apply(blocker.get(60, TimeUnit.SECONDS));
      assertTrue(blockerStart < interactiveStart, "the blocker started first");
      assertTrue(earlyStart < interactiveStart, "the lookahead run was already committed to the slot: " + earlyStart + " vs "
          + interactiveStart + " (blocker " + blockerStart + ", batch " + batchStart + ")");
      assertTrue(interactiveStart < batchStart, "the interactive run started before the earlier batch run: "
          + interactiveStart + " vs " + batchStart);
    }
  }
}
