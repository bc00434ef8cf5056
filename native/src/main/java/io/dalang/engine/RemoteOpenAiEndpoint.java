package io.dalang.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A remote OpenAI-compatible endpoint ({@code POST {base}/chat/completions} or {@code {base}/completions},
 * streaming), used as a tenant's fallback target: the same wire form and the same SSE reading as
 * {@link LlamaServerEngine}, plus the model name and a bearer key. The key goes into the
 * {@code Authorization} header only; no event, error message or log line carries it.
 *
 * <p>HTTP statuses are mapped onto the taxonomy so that the run knows whether to move on: 400/404/413/422
 * are the request's fault ({@code invalid_request}, not retriable), 429 is {@code capacity_exhausted},
 * anything else (401/403 included: a wrong fallback key is the operator's, not the client's) is
 * {@code engine_failed}; an unreachable endpoint is {@code engine_unavailable}.
 */
public final class RemoteOpenAiEndpoint {
  public static final String KIND = "remote";

  private RemoteOpenAiEndpoint() {}

  /**
   * Starts one streamed generation; events go to {@code sink} ({@code Started} names engine {@code remote}),
   * the last one terminal. Never throws.
   *
   * @param baseUrl the API's base, e.g. {@code https://api.example.com/v1}
   * @param name how errors name the endpoint (never its key)
   * @param apiKey the bearer key; empty for none
   */
  public static Engine.Generation generate(String name, String baseUrl, String model, String apiKey, Duration requestTimeout,
      GenerationRequest request, Consumer<GenerationEvent> sink) {
    Consumer<GenerationEvent> named = e -> sink.accept(renamed(name, e));
    var relay = new LlamaServerEngine.SseRelay(request, named, new CompletableFuture<>());
    HttpRequest httpReq;
    try {
      String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
      var b = HttpRequest.newBuilder(URI.create(base + (request.isChat() ? "/chat/completions" : "/completions")))
          .timeout(requestTimeout)
          .header("Content-Type", "application/json")
          .header("Accept", "text/event-stream")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body(model, request)));
      if (!apiKey.isEmpty()) b.header("Authorization", "Bearer " + apiKey);
      httpReq = b.build();
    } catch (IllegalArgumentException e) {
      relay.fail(ErrorCode.ENGINE_UNAVAILABLE, "fallback endpoint " + name + " has an invalid base URL");
      return () -> {};
    }
    EngineHttp.CLIENT.sendAsync(httpReq, HttpResponse.BodyHandlers.fromLineSubscriber(relay)).whenComplete((resp, err) -> {
      if (err != null) {
        if (relay.isCancelled()) relay.fail(ErrorCode.CANCELLED, "generation cancelled");
        else relay.fail(ErrorCode.ENGINE_UNAVAILABLE, "fallback endpoint " + name + " unreachable: " + LlamaServerEngine.rootMessage(err));
      } else if (resp.statusCode() != 200) {
        relay.fail(codeOf(resp.statusCode()), "fallback endpoint " + name + " answered HTTP " + resp.statusCode() + relay.errorText());
      } else {
        relay.finishIfOpen();
      }
    });
    return relay::cancel;
  }

  static ErrorCode codeOf(int status) {
    return switch (status) {
      case 400, 404, 413, 422 -> ErrorCode.INVALID_REQUEST;
      case 429 -> ErrorCode.CAPACITY_EXHAUSTED;
      default -> ErrorCode.ENGINE_FAILED;
    };
  }

  static byte[] body(String model, GenerationRequest r) {
    try {
      var o = (ObjectNode) EngineHttp.JSON.readTree(LlamaServerEngine.body(r));
      o.put("model", model);
      return EngineHttp.JSON.writeValueAsBytes(o);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The SSE reader is llama-server's: its events name this endpoint instead. */
  private static GenerationEvent renamed(String name, GenerationEvent e) {
    if (e instanceof GenerationEvent.Started s) return new GenerationEvent.Started(s.runId(), KIND, null, 0);
    if (e instanceof GenerationEvent.Failed f && f.error().message().contains("llama-server")) {
      var err = f.error();
      return new GenerationEvent.Failed(f.runId(), new DalangError(err.code(), err.message().replace("llama-server", "fallback endpoint " + name),
          err.param(), err.retryAfterSeconds()), f.tokensEmitted(), f.timings());
    }
    return e;
  }
}
