package io.dalang.engine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.redaction.Redaction;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Flow;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A provider: a remote OpenAI-compatible endpoint ({@code POST {base}/chat/completions} or
 * {@code {base}/completions}, streaming), used as a tenant's fallback target: the same wire form and the
 * same SSE reading as {@link LlamaServerEngine}, plus the model name and a bearer key, over a
 * {@link RemoteSseCall} (checked address, no redirects, bounded lines and body). The key goes into the
 * {@code Authorization} header only; no event, error message or log line carries it.
 *
 * <p>Nothing the remote sends reaches the client but its tokens: an error answer is reported by its
 * status only ({@code fallback endpoint X answered HTTP 500}); its body goes to the log, redacted and
 * cut to {@link #LOGGED_BODY} characters. HTTP statuses are mapped onto the taxonomy so that the run knows
 * whether to move on: 400/404/413/422 are the request's fault ({@code invalid_request}, not retriable),
 * 429 is {@code capacity_exhausted}, anything else (401/403 and redirects included: a wrong provider key or
 * URL is the operator's, not the client's) is {@code engine_failed}; an unreachable endpoint or a refused
 * address is {@code engine_unavailable}; a 200 without any SSE {@code data:} event is {@code engine_failed}.
 */
public final class RemoteOpenAiEndpoint {
  public static final String KIND = "remote";
  /** The longest base URL a provider may have. */
  public static final int MAX_URL = 2048;
  /** How much of a remote's error body is logged. */
  static final int LOGGED_BODY = 512;
  private static final Logger log = LoggerFactory.getLogger(RemoteOpenAiEndpoint.class);

  private RemoteOpenAiEndpoint() {}

  /**
   * Why {@code url} cannot be a provider's base URL, or null if it can: an absolute {@code http} or
   * {@code https} URL with a host and an optional port and path; no user info (keys go in secrets), no
   * query, no fragment (which would pick another path than the one shown), no dot segments, no spaces.
   */
  public static String checkBaseUrl(String url) {
    if (url == null || url.isEmpty()) return "is required";
    if (url.length() > MAX_URL) return "must be at most " + MAX_URL + " characters";
    for (int i = 0; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c <= ' ' || c >= 0x7f || c == '\\') return "must be a plain ASCII URL without spaces or backslashes";
    }
    if (url.indexOf('#') >= 0) return "must not have a fragment ('#')";
    if (url.indexOf('?') >= 0) return "must not have a query";
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return "is not a URL";
    }
    if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) return "must be an http or https URL";
    if (uri.getRawUserInfo() != null || uri.getRawAuthority() == null || uri.getRawAuthority().indexOf('@') >= 0) {
      return "must not carry user info; the provider's key goes in its api_key";
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) return "must name a host";
    if (uri.getPort() == 0 || uri.getPort() > 65535) return "has an invalid port";
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    if (!uri.normalize().getRawPath().equals(path) || path.contains("/./") || path.contains("/../") || path.endsWith("/..")
        || path.endsWith("/.")) {
      return "must not have '.' or '..' path segments";
    }
    return null;
  }

  /**
   * Why the host of {@code baseUrl} (one {@link #checkBaseUrl} accepted) may not be reached now, or null:
   * it resolves to no address, or to one the provider may not reach ({@link OutboundAddresses}). Blocks on
   * DNS. Each connection checks again ({@link RemoteSseCall}): this is for refusing a provider at once.
   */
  public static String checkHost(String baseUrl, boolean allowPrivate) {
    String host = URI.create(baseUrl).getHost();
    try {
      OutboundAddresses.resolveChecked(host, allowPrivate, RemoteSseCall.RefusedException::new);
      return null;
    } catch (RemoteSseCall.RefusedException e) {
      return e.getMessage();
    } catch (IOException e) {
      return "host " + host + " does not resolve";
    }
  }

  /**
   * How many streams to remote engines (fallback providers, upstream pools' servers) this process holds
   * open at once, each with its reader thread ({@code dalang.engine.remote-streams-max}); one more fails at
   * once with {@code capacity_exhausted}.
   */
  public static void maxStreams(int max) {
    RemoteSseCall.maxStreams(max);
  }

  /** Scheme, host and port of a URL that {@link #checkBaseUrl} accepted: what a provider's key is bound to. */
  public static String origin(String url) {
    URI uri = URI.create(url);
    int port = uri.getPort() > 0 ? uri.getPort() : uri.getScheme().equals("https") ? 443 : 80;
    return uri.getScheme() + "://" + uri.getHost().toLowerCase(Locale.ROOT) + ":" + port;
  }

  /**
   * Starts one streamed generation; events go to {@code sink} ({@code Started} names engine {@code remote}),
   * the last one terminal. Never throws.
   *
   * @param name how errors name the endpoint (never its key)
   * @param baseUrl the API's base, e.g. {@code https://api.example.com/v1}, one that {@link #checkBaseUrl} accepts
   * @param apiKey the bearer key; empty for none
   * @param allowPrivate whether the host may resolve to a loopback, private or link-local address
   * @param requestTimeout how long the endpoint may be silent: before its answer, and within it
   */
  public static Engine.Generation generate(String name, String baseUrl, String model, String apiKey, boolean allowPrivate,
      Duration requestTimeout, GenerationRequest request, Consumer<GenerationEvent> sink) {
    return generate("fallback endpoint " + name, KIND, baseUrl, model, apiKey, allowPrivate, requestTimeout, request, sink);
  }

  /**
   * As {@link #generate(String, String, String, String, boolean, Duration, GenerationRequest, Consumer)}, with
   * the words that name the endpoint in errors and the log ({@code label}, e.g. {@code upstream vllm-a}) and
   * the engine kind its {@code Started} event names.
   */
  public static Engine.Generation generate(String label, String kind, String baseUrl, String model, String apiKey, boolean allowPrivate,
      Duration requestTimeout, GenerationRequest request, Consumer<GenerationEvent> sink) {
    var relay = new LlamaServerEngine.SseRelay(server(label, kind), request, sink, new CompletableFuture<>());
    String problem = checkBaseUrl(baseUrl);
    if (problem != null) {
      relay.fail(ErrorCode.ENGINE_UNAVAILABLE, label + " has an invalid base URL");
      return () -> {};
    }
    String base = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    URI url = URI.create(base + (request.isChat() ? "/chat/completions" : "/completions"));
    var call = RemoteSseCall.start(url, body(model, request), apiKey.isEmpty() ? null : "Bearer " + apiKey, allowPrivate,
        (int) Math.min(Integer.MAX_VALUE, requestTimeout.toMillis()), new Reader(label, relay));
    relay.onSubscribe(new Flow.Subscription() {
      @Override
      public void request(long n) {
        // the call reads as fast as the remote sends
      }

      @Override
      public void cancel() {
        call.close();
      }
    });
    return relay::cancel;
  }

  /** Hands a 200's lines to the relay; keeps an error answer's first lines for the log only. */
  private static final class Reader implements LoopbackSseCall.Handler {
    /** How messages name the endpoint: {@code fallback endpoint p1}, {@code upstream vllm-a}. */
    private final String name;
    private final LlamaServerEngine.SseRelay relay;
    private final StringBuilder errorBody = new StringBuilder();
    private int status;

    Reader(String name, LlamaServerEngine.SseRelay relay) {
      this.name = name;
      this.relay = relay;
    }

    @Override
    public void status(int code) {
      status = code;
    }

    @Override
    public void line(String line) {
      if (status == 200) relay.onNext(line);
      else if (errorBody.length() < LOGGED_BODY) errorBody.append(line, 0, Math.min(line.length(), LOGGED_BODY - errorBody.length())).append(' ');
    }

    @Override
    public void ended() {
      if (relay.isCancelled()) {
        relay.fail(ErrorCode.CANCELLED, "generation cancelled");
      } else if (status != 200) {
        log.warn("{} answered HTTP {}: {}", name, status, Redaction.current().redact(errorBody));
        relay.fail(codeOf(status), name + " answered HTTP " + status);
      } else if (!relay.started()) {
        relay.fail(ErrorCode.ENGINE_FAILED, name + " answered HTTP 200 without any SSE data event");
      } else {
        relay.finishIfOpen();
      }
    }

    @Override
    public void failed(IOException e) {
      if (relay.isCancelled()) {
        relay.fail(ErrorCode.CANCELLED, "generation cancelled");
        return;
      }
      if (e instanceof RemoteSseCall.BusyException) {
        // Not logged: a flood would write a line per refused run; the run's record and its 429 say it.
        relay.fail(ErrorCode.CAPACITY_EXHAUSTED, name + " not called: " + e.getMessage());
        return;
      }
      log.warn("{}: {}", name, Redaction.current().redact(String.valueOf(e.getMessage())));
      if (e instanceof RemoteSseCall.RefusedException) {
        relay.fail(ErrorCode.ENGINE_UNAVAILABLE, name + " refused: " + e.getMessage());
      } else if (status == 0) {
        relay.fail(ErrorCode.ENGINE_UNAVAILABLE, name + " unreachable");
      } else {
        relay.fail(ErrorCode.ENGINE_FAILED, name + " connection failed before its answer ended");
      }
    }
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

  /**
   * The SSE reader is llama-server's: its events name this endpoint and engine {@code remote}, and an
   * error event inside the stream is reported without its text (the remote's words never reach the
   * client; they go to the log, redacted).
   */
  private static LlamaServerEngine.SseRelay.Server server(String label, String kind) {
    return new LlamaServerEngine.SseRelay.Server(label, kind, text -> {
      log.warn("{}: error event: {}", label, Redaction.current().redact(clip(text)));
      return label + " sent an error event in its stream";
    });
  }

  private static String clip(String s) {
    return s.length() > LOGGED_BODY ? s.substring(0, LOGGED_BODY) + "..." : s;
  }
}
