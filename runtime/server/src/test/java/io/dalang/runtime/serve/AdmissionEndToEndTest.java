package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.runtime.testing.ApiClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A slot with one sequence, kept busy: queued runs leave its pool's admission queue by priority. The
 * pool commits {@code dalang.admission.engine-lookahead} runs (1 here) to a busy slot ahead of time;
 * every later one is still ordered by priority.
 *
 * <p>Each step waits for the pool's own counters ({@code dalang_admissions_total}) to show that the
 * previous run got where it should be, so the order does not depend on how fast the machine is.
 */
class AdmissionEndToEndTest {

  @Test
  void anInteractiveRunOvertakesEarlierBatchRunsBeyondTheLookaheadAtABusySlot(@TempDir Path data) throws Exception {
    Path conf = data.resolve("one-sequence.conf");
    Files.writeString(conf, "dalang.demo.parallel = 1\ndalang.admission.engine-lookahead = 1\n");
    String key = "adm-" + Long.toHexString(System.nanoTime());
    try (var node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, null, key), System.out)) {
      var api = new ApiClient(node.httpPort(), key);
      api.awaitReady(Duration.ofSeconds(90));
      var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      java.util.function.BiFunction<String, Boolean, HttpRequest> request = (priority, stream) ->
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/v1/completions"))
              .header("Authorization", "Bearer " + key).header("x-dalang-priority", priority)
              .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"dalang-demo\", \"prompt\": \"On and on\", \"max_tokens\": "
                  + (stream ? 3000 : 8) + ", \"temperature\": 0, \"stream\": " + stream + "}")).build();
      java.util.function.Function<String, CompletableFuture<String>> send = priority ->
          http.sendAsync(request.apply(priority, false), HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
            assertEquals(200, r.statusCode(), r.body());
            return r.headers().firstValue("x-dalang-run-id").orElseThrow();
          });
      long admitted0 = counter(api, "admitted");
      long dispatched0 = counter(api, "dispatched");

      // The blocker holds the only sequence once its first token has arrived; it is read to the end in the background.
      var blockerResponse = http.send(request.apply("interactive", true), HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, blockerResponse.statusCode());
      String blocker = blockerResponse.headers().firstValue("x-dalang-run-id").orElseThrow();
      var reader = new BufferedReader(new InputStreamReader(blockerResponse.body(), StandardCharsets.UTF_8));
      for (String line; (line = reader.readLine()) != null && !line.startsWith("data: "); ) { /* until the first token */ }
      var drained = CompletableFuture.runAsync(() -> reader.lines().forEach(l -> { }));

      var early = send.apply("batch");
      awaitCounter(api, "dispatched", dispatched0 + 2); // committed to the busy slot as its one lookahead run
      var batch = send.apply("batch");
      awaitCounter(api, "admitted", admitted0 + 3); // waiting in the pool's queue, ahead of the interactive run
      assertEquals(dispatched0 + 2, counter(api, "dispatched"), "the slot has no room beyond its lookahead");
      var interactive = send.apply("interactive");
      awaitCounter(api, "admitted", admitted0 + 4);

      // When each run's first token came, from its record (received + time to first token): with one
      // sequence, a run's first token comes only after the run before it on the slot has ended.
      java.util.function.Function<String, Double> startOf = runId -> {
        try {
          var run = ApiClient.json(api.get("/v1/runs/" + runId).body());
          return run.get("received_at_epoch_ms").asDouble() + run.get("ttft_ms").asDouble();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      double earlyStart = startOf.apply(early.get(90, TimeUnit.SECONDS));
      double batchStart = startOf.apply(batch.get(90, TimeUnit.SECONDS));
      double interactiveStart = startOf.apply(interactive.get(90, TimeUnit.SECONDS));
      drained.get(90, TimeUnit.SECONDS);
      double blockerStart = startOf.apply(blocker);
      assertTrue(blockerStart < earlyStart, "the blocker started first");
      assertTrue(earlyStart < interactiveStart, "the lookahead run was already committed to the slot: "
          + earlyStart + " vs " + interactiveStart);
      assertTrue(interactiveStart < batchStart, "the interactive run started before the earlier batch run: "
          + interactiveStart + " vs " + batchStart);
    }
  }

  private static long counter(ApiClient api, String outcome) throws Exception {
    var m = Pattern.compile("^dalang_admissions_total\\{outcome=\"" + outcome + "\",pool=\"demo\",reason=\"\"} ([0-9.eE+]+)$",
        Pattern.MULTILINE).matcher(api.get("/metrics").body());
    return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
  }

  private static void awaitCounter(ApiClient api, String outcome, long atLeast) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (counter(api, outcome) < atLeast) {
      if (System.nanoTime() > deadline) throw new AssertionError("dalang_admissions_total{outcome=" + outcome + "} stayed below " + atLeast);
      Thread.sleep(10);
    }
  }
}
