package io.dalang.runtime.http;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.placement.PlacementDecision;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.run.RunSettings;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.openai.ChatCompletionRequest;
import io.dalang.protocols.openai.CompletionRequest;
import io.dalang.protocols.openai.ModelList;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.runs.RunLauncher;
import io.dalang.runtime.runs.StartDeadline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.MethodRejection;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.RejectionHandler;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The OpenAI-compatible HTTP API and the operational endpoints. It only translates: authenticate,
 * validate, hand the run to a {@code RunActor} through {@link RunLauncher}, render the events. The
 * HTTP status of a run is decided by its first event, so a run that cannot start is a proper error
 * response and never a 200 with an error inside.
 */
public final class HttpApi extends AllDirectives {
  /** An SSE comment: clients ignore it, proxies and idle timeouts see bytes. */
  static final ByteString KEEP_ALIVE = ByteString.fromString(": keep-alive\n\n");
  /** The default of {@code dalang.http.sse-keep-alive}. */
  static final Duration DEFAULT_SSE_KEEP_ALIVE = Duration.ofSeconds(15);
  private final ActorSystem<?> system;
  private final Authenticator auth;
  private final RunLauncher runs;
  private final ActorRef<PlacementActor.Command> placement;
  private final ActorRef<TelemetryActor.Command> telemetry;
  private final Duration askTimeout;
  private final List<String> engines;
  private final java.util.function.Supplier<String> metrics;
  private final MetricsAccess metricsAccess;
  private final Route admin;
  private final JobsApi jobs;
  private final Duration sseKeepAlive;
  private final EmbeddingsApi embeddings;

  /**
   * @param metrics the Prometheus text exposition of this node's meters
   * @param metricsAccess who may read them
   * @param admin the admin API's routes, served under the same error handling
   * @param jobs durable jobs, and requests with an {@code Idempotency-Key}
   * @param sseKeepAlive how often a quiet stream writes a {@code : keep-alive} comment ({@code dalang.http.sse-keep-alive})
   */
  public HttpApi(ActorSystem<?> system, Authenticator auth, RunLauncher runs, ActorRef<PlacementActor.Command> placement,
      ActorRef<TelemetryActor.Command> telemetry, Duration askTimeout, List<String> engines,
      java.util.function.Supplier<String> metrics, MetricsAccess metricsAccess, Route admin, JobsApi jobs, Duration sseKeepAlive) {
    this.sseKeepAlive = sseKeepAlive;
    this.embeddings = new EmbeddingsApi(system, runs);
    this.metricsAccess = metricsAccess;
    this.admin = admin;
    this.jobs = jobs;
    this.metrics = metrics;
    this.system = system;
    this.auth = auth;
    this.runs = runs;
    this.placement = placement;
    this.telemetry = telemetry;
    this.askTimeout = askTimeout;
    this.engines = engines;
  }

  public Route route() {
    // Built once: the suppliers below run for every request, which then rebuilt the whole tree and the
    // rejection handler each time; under a flood that is work the node can least afford (issue 19).
    RejectionHandler rejections = rejections();
    Route routes = routes();
    return handleExceptions(exceptions(), () -> handleRejections(rejections, () -> routes));
  }

  private Route routes() {
    return concat(
        path(PathMatchers.segment("healthz"), () -> get(() -> complete(json(StatusCodes.OK, Map.of("status", "alive"))))),
        path(PathMatchers.segment("readyz"), () -> get(() -> completeWithFuture(readyz()))),
        path(PathMatchers.segment("metrics"), () -> get(() -> metricsReader(() -> complete(HttpResponse.create().withEntity(
            ContentTypes.create(MediaTypes.TEXT_PLAIN, org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8), metrics.get()))))),
        pathPrefix("v1", () -> concat(
            path(PathMatchers.segment("chat").slash("completions"), () -> post(() -> received(t -> authenticated(p -> body(b -> generate(p, b, true, t)))))),
            path(PathMatchers.segment("completions"), () -> post(() -> received(t -> authenticated(p -> body(b -> generate(p, b, false, t)))))),
            path(PathMatchers.segment("embeddings"), () -> post(() -> received(t -> authenticated(p -> body(b ->
                pooled(r -> embeddings.embeddings(p, b, t, r.priority(), r.deadline(), r.connection()))))))),
            path(PathMatchers.segment("rerank"), () -> post(() -> received(t -> authenticated(p -> body(b ->
                pooled(r -> embeddings.rerank(p, b, t, r.priority(), r.deadline(), r.connection()))))))),
            path(PathMatchers.segment("models"), () -> get(() -> authenticated(this::models))),
            path(PathMatchers.segment("models").slash(PathMatchers.segment()), id -> get(() -> authenticated(p -> model(p, id)))),
            path(PathMatchers.segment("jobs"), () -> post(() -> authenticated(p -> optionalHeaderValueByName("Idempotency-Key", k ->
                body(b -> completeWithFuture(jobs.submit(p, b, k))))))),
            path(PathMatchers.segment("jobs").slash(PathMatchers.segment()), jobId ->
                get(() -> authenticated(p -> completeWithFuture(jobs.get(p, jobId))))),
            path(PathMatchers.segment("capabilities"), () -> get(() -> authenticated(p -> completeWithFuture(capabilities(p))))),
            path(PathMatchers.segment("runs").slash(PathMatchers.segment()), runId ->
                get(() -> authenticated(p -> completeWithFuture(run(p, runId))))),
            path(PathMatchers.segment("placements").slash(PathMatchers.segment()), runId ->
                get(() -> authenticated(p -> completeWithFuture(placementOf(p, runId))))))),
        admin
    );
  }

  // Directives

  /** The moment the request reached the route, before authentication and body, for the run's timings. */
  private Route received(Function<Long, Route> inner) {
    return extractRequestContext(ctx -> inner.apply(System.nanoTime()));
  }

  private Route authenticated(Function<Principal, Route> inner) {
    return extractRequest(r -> optionalHeaderValueByName("Authorization", h ->
        onSuccess(auth.authenticate(h, ClientAddress.of(r)), inner)));
  }

  /** {@code dalang.metrics.auth = operator}: 401 without a valid key, 403 for a tenant key. */
  private Route metricsReader(java.util.function.Supplier<Route> inner) {
    if (metricsAccess == MetricsAccess.NONE) return inner.get();
    return authenticated(p -> {
      if (p.role() != Role.PLATFORM_ADMIN && p.role() != Role.OPERATOR) {
        throw new DalangException(ErrorCode.PERMISSION_DENIED, "reading /metrics needs a platform-admin or operator key (dalang.metrics.auth = operator)");
      }
      return inner.get();
    });
  }

  private Route body(Function<byte[], Route> inner) {
    return entity(Unmarshaller.entityToByteString(), bs -> inner.apply(bs.toArray()));
  }

  private ExceptionHandler exceptions() {
    return ExceptionHandler.newBuilder()
        .matchAny(t -> complete(ErrorMapper.response(ErrorMapper.toError(t))))
        .build();
  }

  private RejectionHandler rejections() {
    return RejectionHandler.newBuilder()
        .handleAll(MethodRejection.class, rs -> complete(ErrorMapper.response(DalangError.of(ErrorCode.METHOD_NOT_ALLOWED,
            "method not allowed here; use " + rs.stream().map(r -> r.supported().name()).toList()))))
        .handleNotFound(extractUri(uri -> complete(ErrorMapper.response(DalangError.of(ErrorCode.NOT_FOUND,
            "no such endpoint: " + uri.path())))))
        .build()
        .withFallback(RejectionHandler.defaultHandler())
        .mapRejectionResponse(r -> r.entity().getContentType().equals(ContentTypes.APPLICATION_JSON) ? r
            : ErrorMapper.response(DalangError.of(r.status().intValue() >= 500 ? ErrorCode.INTERNAL : ErrorCode.INVALID_REQUEST,
                "request rejected: " + r.status().reason())).withStatus(r.status()));
  }

  // Generation

  /** {@code x-dalang-priority: interactive|batch} (default interactive). */
  static Priority priority(java.util.Optional<String> header) {
    if (header.isEmpty()) return Priority.INTERACTIVE;
    try {
      return Priority.valueOf(header.get().strip().toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new DalangException(ErrorCode.INVALID_REQUEST, "header 'x-dalang-priority' must be 'interactive' or 'batch'");
    }
  }

  /** {@code x-dalang-deadline-ms: N}: see {@link StartDeadline}. */
  static long deadline(java.util.Optional<String> header) {
    return StartDeadline.parse(header, "header 'x-dalang-deadline-ms'", null);
  }

  private Route generate(Principal p, byte[] body, boolean chat, long received) {
    return optionalHeaderValueByName("Idempotency-Key", key -> key.isPresent()
        ? completeWithFuture(jobs.generate(p, body, chat, key.get()))
        : optionalHeaderValueByName("x-dalang-priority", prio -> optionalHeaderValueByName("x-dalang-deadline-ms", dl ->
            extractRequest(request -> generate(p, body, chat, received, priority(prio), deadline(dl), ConnectionWatch.of(request))))));
  }

  /** The headers and connection of an embedding or rerank request. */
  private record RunHeaders(Priority priority, long deadline, Optional<ConnectionWatch.Connection> connection) {}

  private Route pooled(Function<RunHeaders, CompletionStage<HttpResponse>> run) {
    return optionalHeaderValueByName("x-dalang-priority", prio -> optionalHeaderValueByName("x-dalang-deadline-ms", dl ->
        extractRequest(request -> completeWithFuture(run.apply(new RunHeaders(priority(prio), deadline(dl), ConnectionWatch.of(request)))))));
  }

  /** A chat or completion body, validated for run {@code runId} against {@code dalang.limits}. */
  static RequestValidation.Validated validate(byte[] body, boolean chat, String runId, RunSettings settings) {
    RequestValidation.body(body.length, settings.limits());
    return chat
        ? RequestValidation.chat(Json.parse(body, ChatCompletionRequest.class), runId, settings.defaultMaxTokens(), settings.limits())
        : RequestValidation.completion(Json.parse(body, CompletionRequest.class), runId, settings.defaultMaxTokens(), settings.limits());
  }

  /**
   * Runs a request. A client that hangs up while nothing streams to it yet (a whole completion, or a
   * stream whose run is still queued or placing) cancels the run through its connection's
   * {@link ConnectionWatch}; once an event stream is in the response, the stream's own cancellation does.
   */
  private Route generate(Principal p, byte[] body, boolean chat, long received, Priority priority, long deadlineEpochMs,
      Optional<ConnectionWatch.Connection> connection) {
    p.requireTenantKey();
    String runId = RunLauncher.newRunId();
    RequestValidation.Validated v = validate(body, chat, runId, runs.settings());
    RunLauncher.StartedRun run = runs.start(p, v, received, priority, deadlineEpochMs);
    Runnable unwatch = connection.map(c -> c.onClose(run.clientGone())).orElse(() -> {});
    var rendering = rendering(chat, runId, v, run.servedModel(), runs.settings());
    var runHeader = RawHeader.create("x-dalang-run-id", runId);
    CompletionStage<HttpResponse> response = firstOrQuiet(run.first(), v.stream()).thenCompose(first -> {
      if (first.isEmpty()) {
        // Still queued after a keep-alive period: the 200 goes out now and the stream stays alive with
        // comments until the first event, so neither the idle timeout nor a proxy cuts it; a run that
        // fails from here on ends the stream with an error event, as one that fails mid-stream does.
        return CompletableFuture.completedFuture(sse(Source.completionStage(run.first()).concat(run.rest()), rendering, sseKeepAlive));
      }
      if (first.get() instanceof GenerationEvent.Failed f) return CompletableFuture.completedFuture(ErrorMapper.response(f.error()));
      Source<GenerationEvent, ?> all = Source.single(first.get()).concat(run.rest());
      if (v.stream()) return CompletableFuture.completedFuture(sse(all, rendering, sseKeepAlive));
      return all.runWith(Sink.seq(), system).thenApply(list -> whole(rendering, list, connection));
    });
    response.whenComplete((r, err) -> unwatch.run());
    // The target is final once the first event is in: a run falls back only before it started.
    return completeWithFuture(response.thenApply(r -> {
      String servedBy = run.servedBy().get();
      return servedBy == null ? r.addHeader(runHeader) : r.addHeader(runHeader).addHeader(RawHeader.create("x-dalang-served-by", servedBy));
    }));
  }

  /** How the response to {@code v} is rendered: its choices, logprobs, and which chunks carry usage. */
  /** @param servedModel the model that answers (a fallback rule's substitute); null until known: the one asked for */
  static OpenAiRendering rendering(boolean chat, String runId, RequestValidation.Validated v, java.util.function.Supplier<String> servedModel,
      RunSettings settings) {
    java.util.function.Supplier<String> model = () -> {
      String served = servedModel.get();
      return served != null ? served : v.model();
    };
    return new OpenAiRendering(chat, runId, model, v.generation().options(), v.includeUsage(),
        settings.usageInEveryStream() ? OpenAiRendering.StreamUsage.ALWAYS : OpenAiRendering.StreamUsage.ASKED);
  }

  /**
   * A stream's first event; for a stream, empty when none came within a keep-alive period (the run is
   * queued), so that its response can start before the first event does.
   */
  private CompletionStage<Optional<GenerationEvent>> firstOrQuiet(CompletionStage<GenerationEvent> first, boolean stream) {
    CompletableFuture<Optional<GenerationEvent>> f = first.thenApply(Optional::of).toCompletableFuture();
    if (!stream) return f;
    var quiet = new CompletableFuture<Optional<GenerationEvent>>();
    var timer = system.scheduler().scheduleOnce(sseKeepAlive, () -> quiet.complete(Optional.empty()), system.executionContext());
    f.whenComplete((e, err) -> timer.cancel());
    return f.applyToEither(quiet, e -> e);
  }

  /** {@link #sse(Source, OpenAiRendering, Duration)} at the default interval, for edges without the setting at hand. */
  public static HttpResponse sse(Source<GenerationEvent, ?> events, OpenAiRendering rendering) {
    return sse(events, rendering, DEFAULT_SSE_KEEP_ALIVE);
  }

  /** A 200 event stream of {@code events}, rendered as OpenAI SSE chunks, with a comment whenever {@code keepAlive} passes quietly. */
  static HttpResponse sse(Source<GenerationEvent, ?> events, OpenAiRendering rendering, Duration keepAlive) {
    // Frames that are ready together (the client or the socket is behind) go out in one write.
    Source<ByteString, ?> sse = events.mapConcat(rendering::sse).batch(256, b -> b, ByteString::concat)
        .keepAlive(keepAlive, () -> KEEP_ALIVE);
    return HttpResponse.create()
        .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(), sse))
        .addHeader(RawHeader.create("Cache-Control", "no-cache"))
        .addHeader(RawHeader.create("X-Accel-Buffering", "no"));
  }

  /**
   * The whole response of a run's events. A run cancelled because its client closed the connection
   * ends without a final event (nothing is relayed to a client that is gone): that is the client's
   * {@code cancelled}, which a client that only half-closed its side still reads.
   */
  private static HttpResponse whole(OpenAiRendering rendering, List<GenerationEvent> events, Optional<ConnectionWatch.Connection> connection) {
    var answer = rendering.collector();
    for (GenerationEvent e : events) {
      if (e instanceof GenerationEvent.Failed f) return ErrorMapper.response(f.error());
      else if (e instanceof GenerationEvent.End end) return json(StatusCodes.OK, rendering.whole(answer, end));
      else answer.add(e);
    }
    if (connection.map(ConnectionWatch.Connection::isClosed).orElse(false)) {
      return ErrorMapper.response(DalangError.of(ErrorCode.CANCELLED, "the client closed its side of the connection; the run was cancelled"));
    }
    return ErrorMapper.response(DalangError.of(ErrorCode.INTERNAL, "the run ended without a final event"));
  }

  // Reads

  private Route models(Principal p) {
    var models = new TreeSet<>(p.models().keySet()).stream()
        .map(id -> new ModelList.Model(id, "model", 0, p.models().get(id))).toList();
    return complete(json(StatusCodes.OK, ModelList.of(models)));
  }

  /** {@code GET /v1/models/{model}}: one entry of the list, or 404 as for a request to a model the tenant is not served. */
  private Route model(Principal p, String id) {
    String owner = p.models().get(id);
    if (owner == null) throw new DalangException(ErrorCode.MODEL_NOT_FOUND, "model '" + id + "' does not exist or is not served to this tenant");
    return complete(json(StatusCodes.OK, new ModelList.Model(id, "model", 0, owner)));
  }

  private CompletionStage<PlacementActor.Fleet> fleet() {
    return AskPattern.ask(placement, PlacementActor.GetFleet::new, askTimeout, system.scheduler());
  }

  private CompletionStage<HttpResponse> readyz() {
    boolean up = Cluster.get(system).selfMember().status() == MemberStatus.up();
    return fleet().thenApply(f -> {
      boolean ready = up && f.anyReady();
      var body = new LinkedHashMap<String, Object>();
      body.put("status", ready ? "ready" : "not ready");
      body.put("cluster_member_up", up);
      body.put("ready_slots", f.slots().stream().filter(SlotStatus::ready).count());
      return json(ready ? StatusCodes.OK : StatusCodes.SERVICE_UNAVAILABLE, body);
    });
  }

  private CompletionStage<HttpResponse> capabilities(Principal p) {
    var sharding = ClusterSharding.get(system);
    return fleet().thenCompose(f -> {
      var mine = f.slots().stream().filter(s -> p.pools().contains(s.poolId())).toList();
      var nodes = new TreeSet<String>();
      mine.forEach(s -> nodes.add(s.nodeId()));
      CompletableFuture<List<Map<String, Object>>> devices = CompletableFuture.completedFuture(new ArrayList<>());
      for (String node : nodes) {
        var view = sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, node)
            .<ExecutorEntity.ExecutorView>ask(ExecutorEntity.GetExecutor::new, askTimeout).toCompletableFuture();
        devices = devices.thenCombine(view, (acc, v) -> {
          v.devices().forEach(d -> {
            var m = new LinkedHashMap<String, Object>();
            m.put("node", node);
            m.put("id", d.id());
            m.put("kind", d.kind());
            m.put("name", d.name());
            m.put("memory_total_mib", d.memoryTotalMib());
            m.put("memory_free_mib", d.memoryFreeMib());
            m.put("compute_capability", d.computeCapability());
            acc.add(m);
          });
          return acc;
        });
      }
      return devices.thenApply(devs -> {
        var models = new ArrayList<Map<String, Object>>();
        for (var e : new java.util.TreeMap<>(p.models()).entrySet()) {
          var slots = mine.stream().filter(s -> s.modelId().equals(e.getKey())).map(SlotViews::capability).toList();
          var m = new LinkedHashMap<String, Object>();
          m.put("id", e.getKey());
          m.put("pool", e.getValue());
          m.put("context_length", mine.stream().filter(s -> s.modelId().equals(e.getKey())).mapToInt(SlotStatus::contextPerSequence).max().orElse(0));
          m.put("slots", slots);
          models.add(m);
        }
        var body = new LinkedHashMap<String, Object>();
        body.put("engines", engines);
        body.put("models", models);
        body.put("devices", devs);
        return json(StatusCodes.OK, body);
      });
    });
  }

  private CompletionStage<HttpResponse> run(Principal p, String runId) {
    CompletionStage<TelemetryActor.RunLookup> lookup =
        AskPattern.ask(telemetry, r -> new TelemetryActor.GetRun(runId, p.tenantId(), r), askTimeout, system.scheduler());
    return lookup.thenApply(l -> {
      if (l.run() == null) throw new DalangException(ErrorCode.NOT_FOUND, "no run " + runId + " for this tenant");
      return json(StatusCodes.OK, l.run());
    });
  }

  private CompletionStage<HttpResponse> placementOf(Principal p, String runId) {
    CompletionStage<java.util.Optional<PlacementDecision>> lookup =
        AskPattern.ask(placement, r -> new PlacementActor.GetDecision(runId, p.tenantId(), r), askTimeout, system.scheduler());
    return lookup.thenApply(d -> json(StatusCodes.OK, PlacementNarration.of(d.orElseThrow(() ->
        new DalangException(ErrorCode.NOT_FOUND, "no placement decision for run " + runId + " of this tenant on this node")))));
  }

  static HttpResponse json(org.apache.pekko.http.javadsl.model.StatusCode status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.bytes(body));
  }
}
