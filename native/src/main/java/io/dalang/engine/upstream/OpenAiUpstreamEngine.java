package io.dalang.engine.upstream;

import io.dalang.engine.Digests;
import io.dalang.engine.Engine;
import io.dalang.engine.EngineException;
import io.dalang.engine.EngineIdentity;
import io.dalang.engine.EngineLoad;
import io.dalang.engine.RemoteOpenAiEndpoint;
import io.dalang.models.HttpGet;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.redaction.Redaction;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An OpenAI-compatible server that Dalang does not start (vLLM, SGLang, Ollama, TGI, a llama-server run by
 * someone else, a cloud provider) as the engine of one slot of an {@code openai-upstream} pool. Requests
 * go to {@code {base}/chat/completions} or {@code {base}/completions}, streamed, through
 * {@link RemoteOpenAiEndpoint}: the provider's address checked on every connection, no redirects, bounded
 * lines and body, its key in the {@code Authorization} header only, its HTTP errors mapped onto the
 * taxonomy ({@code 429} → {@code capacity_exhausted}, {@code 400/404/413/422} → {@code invalid_request},
 * unreachable → {@code engine_unavailable}, the rest → {@code engine_failed}) and its words kept from clients.
 *
 * <p>Health: {@code GET {origin}/health} (vLLM, SGLang, TGI, llama-server), or, where that is not found,
 * {@code GET {base}/models} (Ollama, providers): a 200 is healthy. The engine actor calls it on its health
 * interval and restarts the slot (that is, waits for the upstream again) after repeated failures; while
 * the upstream is down the slot is not Ready and takes no runs.
 *
 * <p>Load: each health check also reads {@code GET {origin}/metrics} where the server has it, for the
 * requests it runs and queues ({@link EngineLoad}): all its clients', so a server shared with others
 * shows less room than Dalang's own count of its sequences. A server without metrics is asked once.
 *
 * <p>The engine never dies on its own ({@link #terminated()} completes only for a closed engine that is
 * asked again); an upstream that goes away fails its health checks.
 */
public final class OpenAiUpstreamEngine implements Engine {
  private static final Logger log = LoggerFactory.getLogger(OpenAiUpstreamEngine.class);
  public static final String KIND = "openai-upstream";
  /** What an upstream is trusted to serve: the OpenAI parameters Dalang passes on (tools, response formats, logprobs, n). */
  static final Set<String> EXTENSIONS = Set.of(GenerationOptions.TOOLS, GenerationOptions.GRAMMAR, GenerationOptions.LOGPROBS,
      GenerationOptions.CHOICES);
  /** How long one health or metrics probe may take. */
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Where the upstream is and how to reach it, resolved from its provider when the slot starts.
   *
   * @param provider the provider's name (how errors and logs name the upstream; never its key)
   * @param baseUrl the API base, e.g. {@code http://10.0.0.7:8000/v1}
   * @param apiKey the bearer key; empty for none
   * @param allowPrivate whether its host may resolve to a loopback, private or link-local address
   */
  public record Target(String provider, String baseUrl, String apiKey, boolean allowPrivate) {
    @Override
    public String toString() {
      return "Target[" + provider + ", " + baseUrl + "]"; // never the key
    }
  }

  private final Target target;
  private final UpstreamEndpoint endpoint;
  private final Duration requestTimeout;
  private final Duration startTimeout;
  private final String label;
  private final URI origin;
  private final EngineIdentity identity;
  private final CompletableFuture<String> terminated = new CompletableFuture<>();
  private volatile boolean closed;
  /** Whether {@code /health} is missing there, so that {@code /models} is the probe. */
  private volatile boolean healthMissing;
  /** Whether the server has no metrics Dalang reads; then they are not asked again. */
  private volatile boolean metricsMissing;
  private volatile EngineLoad load = EngineLoad.UNKNOWN;
  private volatile String lastProblem = "not checked yet";

  /**
   * @param requestTimeout how long the upstream may be silent: before its answer, and within it
   * @param startTimeout how long {@link #start()} waits for the upstream to be healthy
   */
  public OpenAiUpstreamEngine(Target target, UpstreamEndpoint endpoint, Duration requestTimeout, Duration startTimeout) {
    String problem = RemoteOpenAiEndpoint.checkBaseUrl(target.baseUrl());
    if (problem != null) throw new EngineException("upstream " + target.provider() + ": base URL " + problem);
    this.target = target;
    this.endpoint = endpoint;
    this.requestTimeout = requestTimeout;
    this.startTimeout = startTimeout;
    this.label = "upstream " + target.provider();
    this.origin = URI.create(RemoteOpenAiEndpoint.origin(target.baseUrl()));
    this.identity = new EngineIdentity(KIND, target.provider(), Digests.sha256(target.baseUrl() + "\n" + endpoint.model()));
  }

  @Override
  public String kind() {
    return KIND;
  }

  /** The version is the provider's name; the digest names the base URL and model, so another upstream is another identity. */
  @Override
  public EngineIdentity identity() {
    return identity; // asked for every run: computed once
  }

  /** Waits until the upstream answers its health probe; throws with the last reason when it does not within the start timeout. */
  @Override
  public void start() {
    long deadline = System.nanoTime() + startTimeout.toNanos();
    while (!closed) {
      if (checkHealth()) {
        log.info("{} ({}) is healthy{}", label, target.baseUrl(), load.known() ? "; it reports " + describe(load) : "");
        return;
      }
      if (System.nanoTime() >= deadline) break;
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    throw new EngineException(label + " (" + target.baseUrl() + ") was not healthy within " + startTimeout.toSeconds() + " s: " + lastProblem);
  }

  @Override
  public boolean checkHealth() {
    if (closed) return false;
    boolean ok = probeHealth();
    if (ok && !metricsMissing) scrapeMetrics();
    return ok;
  }

  private boolean probeHealth() {
    if (!healthMissing) {
      int status = get(origin.resolve("/health"));
      if (status == 200) return true;
      if (status != 404 && status != 405) {
        lastProblem = status < 0 ? lastProblem : "GET /health answered HTTP " + status;
        return false;
      }
      healthMissing = true;
    }
    String base = target.baseUrl().endsWith("/") ? target.baseUrl() : target.baseUrl() + "/";
    int status = get(URI.create(base + "models"));
    if (status == 200) return true;
    if (status >= 0) lastProblem = "GET " + URI.create(base + "models").getRawPath() + " answered HTTP " + status;
    return false;
  }

  /** The status of a GET (its body unread), or -1 when it could not be sent; {@link #lastProblem} says why. */
  private int get(URI url) {
    try (HttpGet g = HttpGet.open(url, 0, key(), target.allowPrivate(), null, (int) PROBE_TIMEOUT.toMillis())) {
      return g.status();
    } catch (IOException | RuntimeException e) {
      lastProblem = "GET " + url.getRawPath() + ": " + Redaction.current().redact(String.valueOf(e.getMessage()));
      return -1;
    }
  }

  private void scrapeMetrics() {
    try (HttpGet g = HttpGet.open(origin.resolve("/metrics"), 0, key(), target.allowPrivate(), null, (int) PROBE_TIMEOUT.toMillis())) {
      if (g.status() != 200) {
        if (g.status() == 404 || g.status() == 401 || g.status() == 403 || g.status() == 501) {
          metricsMissing = true;
          log.info("{} has no metrics Dalang can read (GET /metrics answered HTTP {}): its load is what Dalang sends it", label, g.status());
        }
        return;
      }
      EngineLoad read;
      try (InputStream body = g.body()) {
        read = EngineLoad.parse(body);
      }
      if (!read.known()) {
        metricsMissing = true;
        log.info("{}'s metrics name no running or waiting requests Dalang knows: its load is what Dalang sends it", label);
      }
      load = read;
    } catch (IOException | RuntimeException e) {
      load = EngineLoad.UNKNOWN; // asked again on the next check
    }
  }

  private String key() {
    return target.apiKey().isEmpty() ? null : target.apiKey();
  }

  private static String describe(EngineLoad l) {
    return l.running() + " running, " + l.waiting() + " waiting";
  }

  @Override
  public int parallelism() {
    return endpoint.maxSequences();
  }

  @Override
  public Set<String> extensions() {
    return EXTENSIONS;
  }

  /** What the upstream said about its load at the last health check. */
  @Override
  public EngineLoad reportedLoad() {
    return load;
  }

  @Override
  public Generation generate(GenerationRequest request, Consumer<GenerationEvent> sink) {
    return RemoteOpenAiEndpoint.generate(label, KIND, target.baseUrl(), endpoint.model(), target.apiKey(), target.allowPrivate(),
        requestTimeout, request, sink);
  }

  @Override
  public CompletionStage<String> terminated() {
    return terminated;
  }

  @Override
  public String baseUrl() {
    return target.baseUrl();
  }

  /** Stops probing; generations in flight end on their own connections. */
  @Override
  public void close() {
    closed = true;
  }
}
