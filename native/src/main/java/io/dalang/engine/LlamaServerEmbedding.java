package io.dalang.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EmbeddingInput;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.Usage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One embedding or rerank run at a llama-server started with {@code --embeddings} or {@code --reranking}:
 * a single request to its {@code /v1/embeddings} or {@code /v1/rerank} (nothing streams), answered as
 * {@code Started → Embedded|Scored → End}, or {@code Failed} before anything else.
 */
final class LlamaServerEmbedding {
  private final GenerationRequest request;
  private final Consumer<GenerationEvent> sink;
  private final AtomicBoolean done = new AtomicBoolean();
  private volatile CompletableFuture<HttpResponse<byte[]>> call;

  private LlamaServerEmbedding(GenerationRequest request, Consumer<GenerationEvent> sink) {
    this.request = request;
    this.sink = sink;
  }

  static Engine.Generation start(URI base, String apiKey, GenerationRequest request, Consumer<GenerationEvent> sink) {
    var run = new LlamaServerEmbedding(request, sink);
    EmbeddingInput in = request.embedding();
    boolean rerank = in.query() != null;
    var http = HttpRequest.newBuilder(base.resolve(rerank ? "/v1/rerank" : "/v1/embeddings"))
        .header("Content-Type", "application/json").header("Authorization", "Bearer " + apiKey)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body(in))).build();
    long t0 = System.nanoTime();
    run.call = EngineHttp.CLIENT.sendAsync(http, HttpResponse.BodyHandlers.ofByteArray());
    run.call.whenComplete((resp, err) -> {
      if (err != null) run.fail(ErrorCode.ENGINE_FAILED, "llama-server connection lost: " + LlamaServerEngine.rootMessage(err));
      else run.answer(resp, in, (System.nanoTime() - t0) / 1e6);
    });
    return new Engine.Generation() {
      @Override
      public void cancel() {
        run.fail(ErrorCode.CANCELLED, "generation cancelled");
        run.call.cancel(true);
      }

      @Override
      public void abort(String why) {
        run.fail(ErrorCode.ENGINE_FAILED, "llama-server connection dropped: " + why);
        run.call.cancel(true);
      }
    };
  }

  static byte[] body(EmbeddingInput in) {
    ObjectNode o = EngineHttp.JSON.createObjectNode();
    if (in.query() != null) {
      o.put("query", in.query());
      var docs = o.putArray("documents");
      in.texts().forEach(docs::add);
      o.put("top_n", in.texts().size());
    } else {
      var input = o.putArray("input");
      in.texts().forEach(input::add);
      o.put("encoding_format", "float");
    }
    try {
      return EngineHttp.JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void answer(HttpResponse<byte[]> resp, EmbeddingInput in, double ms) {
    JsonNode body;
    try {
      body = EngineHttp.JSON.readTree(resp.body());
    } catch (IOException e) {
      fail(ErrorCode.ENGINE_FAILED, "llama-server sent an unreadable answer (HTTP " + resp.statusCode() + ")");
      return;
    }
    if (resp.statusCode() != 200) {
      String text = body.path("error").path("message").asText(new String(resp.body(), java.nio.charset.StandardCharsets.UTF_8));
      fail(resp.statusCode() == 400 ? ErrorCode.INVALID_REQUEST : ErrorCode.ENGINE_FAILED, "llama-server answered HTTP " + resp.statusCode() + ": " + text);
      return;
    }
    int promptTokens = body.path("usage").path("prompt_tokens").asInt(0);
    GenerationEvent result;
    if (in.query() != null) {
      var scores = new Double[in.texts().size()];
      for (JsonNode r : body.path("results")) {
        int i = r.path("index").asInt(-1);
        if (i >= 0 && i < scores.length) scores[i] = r.path("relevance_score").asDouble();
      }
      for (Double s : scores) {
        if (s == null) {
          fail(ErrorCode.ENGINE_FAILED, "llama-server scored " + body.path("results").size() + " of " + scores.length + " documents");
          return;
        }
      }
      result = new GenerationEvent.Scored(request.runId(), List.of(scores));
    } else {
      var vectors = new float[in.texts().size()][];
      for (JsonNode d : body.path("data")) {
        int i = d.path("index").asInt(-1);
        if (i < 0 || i >= vectors.length) continue;
        JsonNode e = d.path("embedding");
        float[] v = new float[e.size()];
        for (int k = 0; k < v.length; k++) v[k] = (float) e.get(k).asDouble();
        vectors[i] = v;
      }
      var list = new ArrayList<float[]>(vectors.length);
      for (float[] v : vectors) {
        if (v == null) {
          fail(ErrorCode.ENGINE_FAILED, "llama-server embedded " + body.path("data").size() + " of " + vectors.length + " inputs");
          return;
        }
        list.add(v);
      }
      DalangError width = PooledOutput.widthError(in, list.get(0).length, LlamaServerEngine.KIND);
      if (width != null) {
        fail(width);
        return;
      }
      result = new GenerationEvent.Embedded(request.runId(), list);
    }
    if (done.compareAndSet(false, true)) {
      sink.accept(new GenerationEvent.Started(request.runId(), LlamaServerEngine.KIND, null, 0));
      sink.accept(result);
      sink.accept(new GenerationEvent.End(request.runId(), "stop", new Usage(promptTokens, 0), new EngineTimings(ms, 0, false)));
    }
  }

  private void fail(ErrorCode code, String message) {
    fail(DalangError.of(code, message));
  }

  private void fail(DalangError error) {
    if (done.compareAndSet(false, true)) sink.accept(new GenerationEvent.Failed(request.runId(), error, 0, EngineTimings.NONE));
  }
}
