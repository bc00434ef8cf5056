package io.dalang.runtime.http;

import io.dalang.actors.admission.Priority;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.openai.EmbeddingRequest;
import io.dalang.protocols.openai.EmbeddingResponse;
import io.dalang.protocols.openai.EmbeddingValidation;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.protocols.openai.RerankRequest;
import io.dalang.protocols.openai.RerankResponse;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.runs.RunLauncher;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code POST /v1/embeddings} and {@code POST /v1/rerank}: validated here, then run like a generation
 * (a {@code RunActor}: quotas, the pool's admission queue, placement on a slot whose engine runs for the
 * task, telemetry), and answered whole once the run's {@code End} is in. Nothing streams.
 */
final class EmbeddingsApi {
  private final ActorSystem<?> system;
  private final RunLauncher runs;

  EmbeddingsApi(ActorSystem<?> system, RunLauncher runs) {
    this.system = system;
    this.runs = runs;
  }

  CompletionStage<HttpResponse> embeddings(Principal p, byte[] body, long received, Priority priority, long deadline,
      Optional<ConnectionWatch.Connection> connection) {
    p.requireTenantKey();
    String runId = RunLauncher.newRunId();
    RequestValidation.body(body.length, runs.settings().limits());
    var v = EmbeddingValidation.embeddings(Json.parse(body, EmbeddingRequest.class), runId, runs.settings().limits());
    return run(p, v.model(), v.generation(), received, priority, deadline, connection, (result, end) ->
        result instanceof GenerationEvent.Embedded e
            ? EmbeddingResponse.of(v.model(), e.vectors(), v.base64(), end.usage().promptTokens()) : null);
  }

  CompletionStage<HttpResponse> rerank(Principal p, byte[] body, long received, Priority priority, long deadline,
      Optional<ConnectionWatch.Connection> connection) {
    p.requireTenantKey();
    String runId = RunLauncher.newRunId();
    RequestValidation.body(body.length, runs.settings().limits());
    var v = EmbeddingValidation.rerank(Json.parse(body, RerankRequest.class), runId, runs.settings().limits());
    return run(p, v.model(), v.generation(), received, priority, deadline, connection, (result, end) ->
        result instanceof GenerationEvent.Scored s
            ? RerankResponse.of(v.model(), v.generation().embedding().texts(), s.scores(), v.topN(), v.returnDocuments(),
                end.usage().promptTokens()) : null);
  }

  /**
   * Runs {@code g} and renders its result with {@code render} (null: the run ended without the result its
   * task makes, which is Dalang's fault). A client that hangs up cancels the run.
   */
  private CompletionStage<HttpResponse> run(Principal p, String model, GenerationRequest g, long received, Priority priority,
      long deadline, Optional<ConnectionWatch.Connection> connection, BiFunction<GenerationEvent, GenerationEvent.End, Object> render) {
    RunLauncher.StartedRun run = runs.start(p, new RequestValidation.Validated(model, false, g), received, priority, deadline);
    Runnable unwatch = connection.map(c -> c.onClose(run.clientGone())).orElse(() -> {});
    CompletionStage<HttpResponse> response = run.first().thenCompose(first -> {
      if (first instanceof GenerationEvent.Failed f) return CompletableFuture.completedFuture(ErrorMapper.response(f.error()));
      return Source.single(first).concat(run.rest()).runWith(Sink.seq(), system).thenApply(events -> whole(events, render));
    });
    response.whenComplete((r, err) -> unwatch.run());
    var runHeader = RawHeader.create("x-dalang-run-id", g.runId());
    return response.thenApply(r -> {
      String servedBy = run.servedBy().get();
      return servedBy == null ? r.addHeader(runHeader) : r.addHeader(runHeader).addHeader(RawHeader.create("x-dalang-served-by", servedBy));
    });
  }

  private static HttpResponse whole(List<GenerationEvent> events, BiFunction<GenerationEvent, GenerationEvent.End, Object> render) {
    GenerationEvent result = null;
    for (GenerationEvent e : events) {
      if (e instanceof GenerationEvent.Failed f) return ErrorMapper.response(f.error());
      if (e instanceof GenerationEvent.Embedded || e instanceof GenerationEvent.Scored) result = e;
      if (e instanceof GenerationEvent.End end) {
        Object body = render.apply(result, end);
        if (body != null) return HttpApi.json(StatusCodes.OK, body);
        break;
      }
    }
    return ErrorMapper.response(DalangError.of(ErrorCode.INTERNAL, "the run ended without its vectors or scores"));
  }
}
