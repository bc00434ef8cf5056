package io.dalang.runtime.sim;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.engine.Engine;
import io.dalang.engine.sim.SimProfile;
import io.dalang.engine.sim.SimulatedEngine;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.openai.ChatCompletionRequest;
import io.dalang.protocols.openai.CompletionRequest;
import io.dalang.protocols.openai.ModelList;
import io.dalang.protocols.openai.RequestLimits;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.runtime.http.ErrorMapper;
import io.dalang.runtime.http.HttpApi;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.http.OpenAiRendering;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@link SimulatedEngine} behind an OpenAI-compatible HTTP API, as vLLM or llama-server would serve a
 * model: {@code POST /v1/chat/completions} and {@code /v1/completions} (streamed or whole, rendered by
 * the same {@link OpenAiRendering} as Dalang's own edge), {@code GET /v1/models}, {@code GET /health} and
 * {@code GET /metrics} with vLLM's {@code vllm:num_requests_running} and {@code vllm:num_requests_waiting},
 * so that an upstream pool or a benchmark can treat it as an engine it cannot tell from a real one but
 * for its words.
 *
 * <p>Each stream is a queue-backed {@link Source} that the engine's timer offers events to: a stream
 * holds no thread, so one server holds many thousands of them ({@code sim-engine.conf} raises Pekko's
 * connection cap and accept backlog). Requests beyond {@code max_sequences} wait ({@link SimAdmission});
 * a client that goes away cancels its request, waiting or running. No authentication: it binds loopback
 * unless told otherwise.
 */
public final class SimEngineServer extends AllDirectives implements AutoCloseable {
  /** How many tokens {@code max_tokens} is when a request leaves it out, as Dalang's default. */
  static final int DEFAULT_MAX_TOKENS = 256;

  private final SimulatedEngine engine;
  private final String model;
  private final SimAdmission admission;
  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final AtomicLong runIds = new AtomicLong();
  private final LongAdder requests = new LongAdder();
  private final Map<String, LongAdder> outcomes = Map.of("length", new LongAdder(), "stop", new LongAdder(), "failed", new LongAdder(),
      "cancelled", new LongAdder());

  private SimEngineServer(SimProfile profile, String model, String host, int port) {
    this.engine = new SimulatedEngine(profile);
    this.model = model;
    this.admission = new SimAdmission(profile.maxSequences());
    Config config = ConfigFactory.parseResources("sim-engine.conf").withFallback(ConfigFactory.defaultReference()).resolve();
    this.system = ActorSystem.create(Behaviors.empty(), "dalang-sim-engine", config);
    try {
      this.binding = Http.get(system).newServerAt(host, port).bind(route()).toCompletableFuture().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** Starts the engine and its HTTP server; returns once it listens. */
  public static SimEngineServer start(SimProfile profile, String model, String host, int port) {
    return new SimEngineServer(profile, model, host, port);
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** The OpenAI base URL, {@code http://HOST:PORT/v1}. */
  public String baseUrl() {
    String host = binding.localAddress().getHostString();
    return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port() + "/v1";
  }

  @Override
  public void close() {
    binding.unbind();
    engine.close();
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // leave it to the JVM's exit
    }
  }

  Route route() {
    return handleExceptions(ExceptionHandler.newBuilder().matchAny(t -> complete(ErrorMapper.response(ErrorMapper.toError(t)))).build(),
        () -> handleRejections(rejections(), () -> concat(
            path("health", () -> get(() -> complete(json(Map.of("status", "ok"))))),
            path("metrics", () -> get(() -> complete(HttpResponse.create().withEntity(
                ContentTypes.create(MediaTypes.TEXT_PLAIN, HttpCharsets.UTF_8), metrics())))),
            pathPrefix("v1", () -> concat(
                path(PathMatchers.segment("chat").slash("completions"), () -> post(() -> body(b -> generate(b, true)))),
                path("completions", () -> post(() -> body(b -> generate(b, false)))),
                path("models", () -> get(() -> complete(json(ModelList.of(List.of(new ModelList.Model(model, "model", 0, "dalang-sim"))))))))))));
  }

  private RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handleNotFound(extractUri(uri -> complete(ErrorMapper.response(DalangError.of(ErrorCode.NOT_FOUND, "no such endpoint: " + uri.path())))))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(r -> r.entity().getContentType().equals(ContentTypes.APPLICATION_JSON) ? r
            : ErrorMapper.response(DalangError.of(r.status().intValue() >= 500 ? ErrorCode.INTERNAL : ErrorCode.INVALID_REQUEST,
                "request rejected: " + r.status().reason())).withStatus(r.status()));
  }

  private Route body(java.util.function.Function<byte[], Route> inner) {
    return entity(Unmarshaller.entityToByteString(), bs -> inner.apply(bs.toArray()));
  }

  private Route generate(byte[] body, boolean chat) {
    String runId = "sim-" + runIds.incrementAndGet();
    var v = validate(body, chat, runId);
    var rendering = new OpenAiRendering(chat, runId, v::model, v.generation().options(), v.includeUsage(), OpenAiRendering.StreamUsage.ASKED);
    Source<GenerationEvent, NotUsed> events = events(v.generation());
    if (v.stream()) return complete(HttpApi.sse(events, rendering));
    CompletionStage<HttpResponse> whole = events.runWith(Sink.seq(), system).thenApply(list -> {
      var answer = rendering.collector();
      for (GenerationEvent e : list) {
        if (e instanceof GenerationEvent.Failed f) return ErrorMapper.response(f.error());
        if (e instanceof GenerationEvent.End end) return json(rendering.whole(answer, end));
        answer.add(e);
      }
      return ErrorMapper.response(DalangError.of(ErrorCode.INTERNAL, "the simulated run ended without a final event"));
    });
    return completeWithFuture(whole);
  }

  /** The request, validated as Dalang's edge validates it, for this server's model and engine. */
  private RequestValidation.Validated validate(byte[] body, boolean chat, String runId) {
    var limits = RequestLimits.DEFAULTS;
    RequestValidation.body(body.length, limits);
    var v = chat
        ? RequestValidation.chat(Json.parse(body, ChatCompletionRequest.class), runId, DEFAULT_MAX_TOKENS, limits)
        : RequestValidation.completion(Json.parse(body, CompletionRequest.class), runId, DEFAULT_MAX_TOKENS, limits);
    if (!model.equals(v.model())) throw new DalangException(ErrorCode.MODEL_NOT_FOUND, "model '" + v.model() + "' is not served here; this server serves '" + model + "'");
    for (String ext : v.generation().extensions()) {
      if (!engine.extensions().contains(ext)) {
        String param = GenerationOptions.parameterOf(ext);
        throw new DalangException(ErrorCode.UNSUPPORTED_PARAMETER, "'" + param + "' is not simulated", param, 0);
      }
    }
    return v;
  }

  /**
   * The run's events as a stream that starts the run when it is materialized and cancels it when its
   * consumer goes away. Its buffer holds the whole run, so the timer never waits on a slow client.
   */
  private Source<GenerationEvent, NotUsed> events(GenerationRequest request) {
    long tokens = (long) Math.max(request.maxTokens(), engine.profile().outputTokens()) * request.options().choices();
    int capacity = (int) Math.min(Integer.MAX_VALUE - 8, tokens + 8);
    return Source.<GenerationEvent>queue(capacity)
        .mapMaterializedValue(q -> {
          var relay = new Relay(request, q);
          requests.increment();
          admission.admit(relay);
          return relay;
        })
        .watchTermination((relay, done) -> {
          done.whenComplete((d, err) -> relay.cancel());
          return NotUsed.getInstance();
        });
  }

  /** One request between the admission queue, the engine and its response stream. */
  private final class Relay implements Runnable, Consumer<GenerationEvent> {
    private final GenerationRequest request;
    private final BoundedSourceQueue<GenerationEvent> queue;
    private volatile Engine.Generation generation;
    private volatile boolean started;
    private volatile boolean ended;
    private volatile boolean cancelled;

    Relay(GenerationRequest request, BoundedSourceQueue<GenerationEvent> queue) {
      this.request = request;
      this.queue = queue;
    }

    /** Admitted: the run starts, unless its client went away meanwhile. */
    @Override
    public void run() {
      started = true;
      if (cancelled) {
        outcomes.get("cancelled").increment();
        admission.release();
        return;
      }
      generation = engine.generate(request, this);
      if (cancelled) generation.cancel();
    }

    @Override
    public void accept(GenerationEvent e) {
      queue.offer(e);
      if (!e.isTerminal()) return;
      ended = true;
      try {
        queue.complete();
      } catch (IllegalStateException alreadyClosed) {
        // the client went away
      }
      if (e instanceof GenerationEvent.End end) outcomes.get(end.finishReason()).increment();
      else outcomes.get(((GenerationEvent.Failed) e).error().code() == ErrorCode.CANCELLED ? "cancelled" : "failed").increment();
      admission.release();
    }

    /** The stream ended: a run still waiting leaves the queue, a running one is cancelled (nothing if it ended). */
    void cancel() {
      if (ended) return;
      cancelled = true;
      if (!started && admission.withdraw(this)) {
        outcomes.get("cancelled").increment();
        return;
      }
      Engine.Generation g = generation;
      if (g != null) g.cancel();
    }
  }

  /** Prometheus text: vLLM's queue gauges and request counter, labelled with the model as vLLM labels them. */
  String metrics() {
    String label = "model_name=\"" + model.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    var out = new StringBuilder(1024);
    out.append("# HELP vllm:num_requests_running Requests running on the simulated engine.\n")
        .append("# TYPE vllm:num_requests_running gauge\n")
        .append("vllm:num_requests_running{").append(label).append("} ").append(admission.running()).append('\n')
        .append("# HELP vllm:num_requests_waiting Requests waiting for a free sequence.\n")
        .append("# TYPE vllm:num_requests_waiting gauge\n")
        .append("vllm:num_requests_waiting{").append(label).append("} ").append(admission.waiting()).append('\n')
        .append("# HELP vllm:request_success_total Requests that ended normally, by finish reason.\n")
        .append("# TYPE vllm:request_success_total counter\n");
    for (String reason : List.of("length", "stop")) {
      out.append("vllm:request_success_total{").append(label).append(",finished_reason=\"").append(reason).append("\"} ")
          .append(outcomes.get(reason).sum()).append('\n');
    }
    out.append("# HELP dalang_sim_requests_received_total Generation requests received.\n")
        .append("# TYPE dalang_sim_requests_received_total counter\n")
        .append("dalang_sim_requests_received_total{").append(label).append("} ").append(requests.sum()).append('\n')
        .append("# HELP dalang_sim_requests_ended_total Generation requests that ended, by how.\n")
        .append("# TYPE dalang_sim_requests_ended_total counter\n");
    for (String outcome : List.of("length", "stop", "failed", "cancelled")) {
      out.append("dalang_sim_requests_ended_total{").append(label).append(",outcome=\"").append(outcome).append("\"} ")
          .append(outcomes.get(outcome).sum()).append('\n');
    }
    return out.toString();
  }

  private static HttpResponse json(Object body) {
    return HttpResponse.create().withStatus(StatusCodes.OK).withEntity(ContentTypes.APPLICATION_JSON, Json.bytes(body));
  }
}
