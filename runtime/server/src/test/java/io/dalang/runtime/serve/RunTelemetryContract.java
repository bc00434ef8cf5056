package io.dalang.runtime.serve;

import static io.dalang.runtime.testing.RunRecords.assertValid;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.runs.RunLauncher;
import io.dalang.runtime.testing.ApiClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/**
 * The telemetry contract every engine adapter keeps, checked on a real node serving the demo model
 * (each engine's end-to-end test implements it): a streaming and a whole run go through the same
 * canonical transitions {@code Started → Token* → End}, and their records, over HTTP as well as from
 * the run itself, agree on completion tokens and finish reason and are valid.
 */
interface RunTelemetryContract {
  String PROMPT = "The tree is";
  int MAX_TOKENS = 10;

  /** The node under test, a client of its demo tenant, and its engine's kind ({@code llama-inprocess} or {@code llama-server}). */
  record Served(DalangNode node, ApiClient api, String engineKind) {}

  Served served();

  /** The events a run hands to its edge, first to last, for the demo tenant. */
  private static List<GenerationEvent> eventsOf(DalangNode node, boolean stream) throws Exception {
    var demo = new Principal("demo", "contract", Role.TENANT_USER, Set.of("demo"), Map.of("dalang-demo", "demo"),
        TenantEntity.Quotas.NONE);
    var request = new GenerationRequest(RunLauncher.newRunId(), PROMPT, null, MAX_TOKENS, 0.0, 1.0, 7L, List.of());
    var run = node.runs().start(demo, new RequestValidation.Validated("dalang-demo", stream, request), System.nanoTime(),
        Priority.INTERACTIVE, 0);
    var events = new ArrayList<GenerationEvent>();
    events.add(run.first().toCompletableFuture().get(60, TimeUnit.SECONDS));
    events.addAll(run.rest().runWith(Sink.seq(), node.system()).toCompletableFuture().get(60, TimeUnit.SECONDS));
    return events;
  }

  /** The transitions as letters: S (Started), T (Token), E (End), F (Failed). */
  private static String shape(List<GenerationEvent> events) {
    return events.stream().map(e -> e.getClass().getSimpleName().substring(0, 1)).collect(Collectors.joining());
  }

  private static String text(List<GenerationEvent> events) {
    return events.stream().filter(e -> e instanceof GenerationEvent.Token).map(e -> ((GenerationEvent.Token) e).text())
        .collect(Collectors.joining());
  }

  @Test
  default void streamingAndWholeRunsGoThroughTheSameCanonicalTransitionsAndAgreeInTheirRecords() throws Exception {
    var served = served();
    var api = served.api();
    api.awaitReady(Duration.ofSeconds(90)); // another test may have restarted the engine
    var streamed = eventsOf(served.node(), true);
    var whole = eventsOf(served.node(), false);
    assertTrue(shape(streamed).matches("ST+E"), shape(streamed));
    assertEquals(shape(streamed), shape(whole), "the same transitions, streaming or not");
    assertEquals(text(streamed), text(whole), "temperature 0 with a seed");
    var streamedEnd = assertInstanceOf(GenerationEvent.End.class, streamed.get(streamed.size() - 1));
    var wholeEnd = assertInstanceOf(GenerationEvent.End.class, whole.get(whole.size() - 1));
    assertEquals(streamedEnd.finishReason(), wholeEnd.finishReason());
    assertEquals(streamedEnd.usage(), wholeEnd.usage());

    String body = """
        {"model": "dalang-demo", "prompt": "%s", "max_tokens": %d, "temperature": 0, "seed": 7, "stream": %s}""";
    var sse = api.postStream("/v1/completions", body.formatted(PROMPT, MAX_TOKENS, true));
    assertEquals("[DONE]", ApiClient.sseData(sse.body()).stream().reduce((a, b) -> b).orElseThrow());
    var json = api.post("/v1/completions", body.formatted(PROMPT, MAX_TOKENS, false));
    assertEquals(200, json.statusCode(), json.body());
    var records = new ArrayList<JsonNode>();
    for (String id : List.of(streamed.get(0).runId(), whole.get(0).runId(), runId(sse), runId(json))) {
      records.add(api.awaitRun(id, Duration.ofSeconds(10)));
    }
    for (JsonNode r : records) {
      assertValid(r);
      assertEquals(served.engineKind(), r.get("engine").asText());
      assertEquals(streamedEnd.usage().completionTokens(), r.get("completion_tokens").asInt(), r.toString());
      assertEquals(streamedEnd.finishReason(), r.get("finish_reason").asText(), r.toString());
    }
    assertEquals(List.of(true, false, true, false), records.stream().map(r -> r.get("stream").asBoolean()).toList());
  }

  private static String runId(java.net.http.HttpResponse<?> r) {
    return r.headers().firstValue("x-dalang-run-id").orElseThrow();
  }
}
