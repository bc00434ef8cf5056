package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;
import static io.dalang.runtime.admin.AdminDirectives.platformReader;

import io.dalang.actors.model.ModelEntity;
import io.dalang.actors.model.ModelVersion;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.PoolSpec;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.pool.Rollout;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.engine.Digests;
import io.dalang.engine.InProcessLlamaEngine;
import io.dalang.engine.sim.SimProfile;
import io.dalang.engine.upstream.UpstreamEndpoint;
import io.dalang.gguf.GgufReader;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.models.BlobStore;
import io.dalang.protocols.generation.RunTask;
import io.dalang.protocols.model.ModelRef;
import io.dalang.protocols.node.SlotView;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.http.SlotViews;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Pools under {@code /admin/v1/pools}: create a pool for a model file, list and read pools with their
 * replicas' states, scale a pool ({@code replicas}) or move it to another engine. The replica reconciler
 * does the placing and retiring; this only changes the pool's desired state and nudges it.
 *
 * <pre>
 * pool.create, pool.update   platform-admin
 * pool.read                  platform-admin, operator
 * </pre>
 *
 * <p>A pool names a catalog model ({@code "model": "name@v2"}, or {@code "name"} for the latest
 * version): its blob is in the catalog's store, and each gpu node pulls it by digest before its slot
 * loads. The deprecated {@code model_path} form needs the file on the control node that takes the
 * request (its GGUF header sizes the replicas) and at the same path on every gpu node.
 */
final class PoolRoutes extends AllDirectives implements AdminRoute {
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final AuditSink audit;
  private final AdminDirectives admin;
  private final ActorSystem<?> system;
  private final ActorRef<ReplicaReconciler.Command> reconciler;
  private final List<String> engines;
  private final String defaultEngine;
  private final Executor blocking;
  private final BlobStore blobs;
  private final ActorRef<TelemetryActor.Command> telemetry;
  private final java.util.function.Function<String, CompletionStage<ProviderEntity.ProviderView>> providers;

  /**
   * @param reconciler nudged when a pool changes
   * @param engines the engines a pool may name; {@code defaultEngine} the one it gets when it names none ({@code dalang.engine.default})
   */
  PoolRoutes(ActorSystem<?> system, AdminDirectives admin, Duration timeout, AuditSink audit, ActorRef<ReplicaReconciler.Command> reconciler,
      List<String> engines, String defaultEngine, BlobStore blobs, ActorRef<TelemetryActor.Command> telemetry) {
    this.blobs = blobs;
    this.telemetry = telemetry;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.audit = audit;
    this.admin = admin;
    this.reconciler = reconciler;
    this.engines = engines;
    this.defaultEngine = defaultEngine;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    this.providers = ProviderEntity.lookup(system, timeout);
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path("pools", () -> concat(
            post(() -> admin.body(b -> completeWithFuture(create(p, b)))),
            get(() -> completeWithFuture(list(p))))),
        path(PathMatchers.segment("pools").slash(PathMatchers.segment()), id -> concat(
            get(() -> completeWithFuture(read(p, id))),
            patch(() -> admin.body(b -> completeWithFuture(update(p, id, b)))))),
        path(PathMatchers.segment("pools").slash(PathMatchers.segment()).slash("rollout"), id ->
            get(() -> completeWithFuture(rollout(p, id)))),
        path(PathMatchers.segment("pools").slash(PathMatchers.segment()).slash("rollout").slash(PathMatchers.segment()), (id, action) ->
            post(() -> completeWithFuture(rolloutAction(p, id, action)))));
  }

  private CompletionStage<HttpResponse> create(Principal p, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.CreatePool.class);
    admin.allow(p, "pool.create", "", req.id() == null ? "" : req.id(), platformAdmin(p), "platform-admin");
    String id = AdminValidation.id("id", req.id());
    String engineGiven = req.engine() == null ? defaultEngine : engine(req.engine());
    if (!PoolSpec.loadsModelFile(engineGiven)) return createWithoutModelFile(p, id, engineGiven, req);
    if (req.upstreams() != null || req.simulated() != null) {
      throw AdminValidation.invalid(req.upstreams() != null ? "upstreams" : "simulated", "'upstreams' is for engine '" + PoolSpec.UPSTREAM_ENGINE
          + "' and 'simulated' for engine '" + PoolSpec.SIMULATED_ENGINE + "' only");
    }
    boolean fromCatalog = req.model() != null;
    if (fromCatalog && (req.modelPath() != null || req.modelDigest() != null)) {
      throw AdminValidation.invalid("model", "give 'model' (a catalog model) or 'model_path', not both");
    }
    if (!fromCatalog && (req.modelPath() == null || req.modelPath().isBlank())) {
      throw AdminValidation.invalid("model", "'model' (a catalog model: name or name@version) is required");
    }
    ModelRef ref = fromCatalog ? modelRef(req.model()) : null;
    String modelId = AdminValidation.modelId("model_id", req.modelId() == null && ref != null ? ref.name() : req.modelId());
    String engine = engine(req.engine() == null ? defaultEngine : req.engine());
    int replicas = AdminValidation.between("replicas", req.replicas(), 1, 0, 1024);
    int context = AdminValidation.between("context_per_sequence", req.contextPerSequence(), 4096, 16, 1 << 20);
    int parallel = AdminValidation.between("parallel", req.parallel(), 4, 1, 256);
    int threads = AdminValidation.between("threads", req.threads(), Math.max(1, Runtime.getRuntime().availableProcessors() / 2), 1, 1024);
    String offload = req.gpuOffload() == null ? PoolSpec.OFFLOAD_PARTIAL : req.gpuOffload();
    if (!offload.equals(PoolSpec.OFFLOAD_FULL) && !offload.equals(PoolSpec.OFFLOAD_PARTIAL)) {
      throw AdminValidation.invalid("gpu_offload", "'gpu_offload' must be 'full' or 'partial'");
    }
    String task = task(req.task(), engine);
    CompletionStage<PoolSpec> spec;
    if (ref != null) {
      spec = catalogVersion(ref).thenApply(v -> new PoolSpec(modelId, blobs.pathOf(v.version().sha256()).toString(), v.version().sha256(), engine,
          replicas, context, parallel, threads, offload, task, ref.name() + "@" + v.version().version()));
    } else {
      Path model = Path.of(req.modelPath()).toAbsolutePath().normalize();
      // Reading and hashing the model touches the disk: not on the route's thread.
      spec = CompletableFuture.supplyAsync(() -> checkedDigest(model, req.modelDigest()), blocking)
          .thenApply(digest -> new PoolSpec(modelId, model.toString(), digest, engine, replicas, context, parallel, threads, offload, task, null));
    }
    return created(p, id, spec);
  }

  /** The pool {@code spec} made under {@code id} (an existing pool refuses: 409), the reconciler told, audited. */
  private CompletionStage<HttpResponse> created(Principal p, String id, CompletionStage<PoolSpec> spec) {
    return spec
        .thenCompose(s -> sharding.entityRefFor(PoolEntity.ENTITY_KEY, id).<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.CreatePool(s, r), timeout))
        .thenCompose(v -> {
          reconciler.tell(new ReplicaReconciler.ReconcileNow());
          var s = v.spec();
          var details = new LinkedHashMap<String, String>();
          details.put("model_id", s.modelId());
          if (s.catalogRef() != null) details.put("model", s.catalogRef());
          else if (s.loadsModelFile()) details.put("model_path", s.modelPath());
          if (s.upstreams() != null) details.put("upstreams", String.join(",", s.upstreams().stream().map(UpstreamEndpoint::provider).toList()));
          details.put("engine", s.engine());
          details.put("replicas", "" + s.replicas());
          details.put("task", s.task());
          audit.record("", p.keyId(), "pool.create", id, "ok", "", details);
          return body(v).thenApply(b -> json(StatusCodes.CREATED, b));
        });
  }

  /**
   * A pool whose engines have no model file: an {@code openai-upstream} pool's replicas front the servers
   * it lists (each a provider that serves the model under the name given), a {@code simulated} pool's
   * replicas pretend with its profile. What clients call the model is {@code model_id}.
   */
  private CompletionStage<HttpResponse> createWithoutModelFile(Principal p, String id, String engine, AdminRequests.CreatePool req) {
    if (req.model() != null || req.modelPath() != null || req.modelDigest() != null) {
      throw AdminValidation.invalid("model", "a pool of engine '" + engine + "' has no model file: give 'model_id' (what clients call it), not 'model' or 'model_path'");
    }
    if (req.gpuOffload() != null) throw AdminValidation.invalid("gpu_offload", "a pool of engine '" + engine + "' uses no GPU of Dalang's");
    String modelId = AdminValidation.modelId("model_id", req.modelId());
    int context = AdminValidation.between("context_per_sequence", req.contextPerSequence(), 4096, 16, 1 << 20);
    String task = task(req.task(), engine);
    PoolSpec spec;
    if (engine.equals(PoolSpec.UPSTREAM_ENGINE)) {
      if (req.simulated() != null) throw AdminValidation.invalid("simulated", "'simulated' is for engine '" + PoolSpec.SIMULATED_ENGINE + "' only");
      if (!task.equals(RunTask.GENERATE.wire())) throw AdminValidation.invalid("task", "an upstream pool serves generation only");
      if (req.upstreams() == null || req.upstreams().isEmpty() || req.upstreams().size() > UpstreamEndpoint.MAX_ENDPOINTS) {
        throw AdminValidation.invalid("upstreams", "'upstreams' must list 1 to " + UpstreamEndpoint.MAX_ENDPOINTS + " servers, each {\"provider\": NAME}");
      }
      var ups = new ArrayList<UpstreamEndpoint>();
      var seen = new java.util.HashSet<String>();
      for (var u : req.upstreams()) {
        if (u == null) throw AdminValidation.invalid("upstreams", "each upstream is {\"provider\": NAME, \"model\": NAME, \"max_sequences\": N}");
        String provider = AdminValidation.id("upstreams[].provider", u.provider());
        if (!seen.add(provider)) throw AdminValidation.invalid("upstreams", "provider " + provider + " is listed twice");
        String served = u.model() == null ? modelId : AdminValidation.modelId("upstreams[].model", u.model());
        int max = AdminValidation.between("upstreams[].max_sequences", u.maxSequences(), 16, 1, UpstreamEndpoint.MAX_SEQUENCES);
        ups.add(new UpstreamEndpoint(provider, served, max));
      }
      if (req.replicas() != null && req.replicas() != ups.size()) {
        throw AdminValidation.invalid("replicas", "an upstream pool has one replica per upstream (" + ups.size() + ")");
      }
      spec = new PoolSpec(modelId, "", null, engine, ups.size(), context, ups.get(0).maxSequences(), 1, null, task, null, ups, null);
      // Each provider must exist and serve the model under the name given: refused now, not when a slot starts.
      var checks = ups.stream().map(u -> providers.apply(u.provider()).thenAccept(v -> {
        if (!v.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "there is no provider " + u.provider() + "; create it under /admin/v1/providers");
        if (!v.spec().models().contains(u.model())) {
          throw AdminValidation.invalid("upstreams", "provider " + u.provider() + " does not serve model " + u.model() + " (it serves "
              + v.spec().models() + "); name the served model in the upstream's 'model'");
        }
      }).toCompletableFuture()).toArray(CompletableFuture[]::new);
      PoolSpec made = spec;
      return created(p, id, CompletableFuture.allOf(checks).thenApply(d -> made));
    }
    if (req.upstreams() != null) throw AdminValidation.invalid("upstreams", "'upstreams' is for engine '" + PoolSpec.UPSTREAM_ENGINE + "' only");
    var g = req.simulated() == null ? new AdminRequests.Simulated(null, null, null, null, null, null, null) : req.simulated();
    var d = SimProfile.DEFAULT;
    var profile = new SimProfile(g.ttftMs() == null ? d.ttftMs() : g.ttftMs(), g.itlMs() == null ? d.itlMs() : g.itlMs(),
        g.outputTokens() == null ? d.outputTokens() : g.outputTokens(), g.errorRate() == null ? d.errorRate() : g.errorRate(),
        g.jitter() == null ? d.jitter() : g.jitter(), g.seed() == null ? d.seed() : g.seed(), g.maxSequences() == null ? d.maxSequences() : g.maxSequences());
    String problem = profile.problem();
    if (problem != null) throw AdminValidation.invalid("simulated", "'simulated': " + problem);
    int replicas = AdminValidation.between("replicas", req.replicas(), 1, 0, 1024);
    spec = new PoolSpec(modelId, "", null, engine, replicas, context, profile.maxSequences(), 1, null, task, null, null, profile);
    return created(p, id, CompletableFuture.completedFuture(spec));
  }

  private static ModelRef modelRef(String text) {
    try {
      return ModelRef.parse(text);
    } catch (IllegalArgumentException e) {
      throw AdminValidation.invalid("model", "'model': " + e.getMessage());
    }
  }

  /** A catalog version with the model it belongs to; 404 when the catalog has no such model or version. */
  record CatalogVersion(String name, ModelVersion version) {}

  private CompletionStage<CatalogVersion> catalogVersion(ModelRef ref) {
    return ModelEntity.get(system, ref.name(), timeout).thenApply(m -> m.resolve(ref).map(v -> new CatalogVersion(ref.name(), v))
        .orElseThrow(() -> new DalangException(ErrorCode.NOT_FOUND, m.exists()
            ? "model " + ref.name() + " has no version " + ref.version() + " (it has " + m.versions().stream().map(ModelVersion::version).toList() + ")"
            : "model " + ref.name() + " is not in the catalog; add it with `dalang model add " + ref.name() + " --from PATH|URL`")));
  }

  /** The pool's task ({@code generate} when absent); the in-process engine does not rerank. */
  private static String task(String given, String engine) {
    RunTask task;
    try {
      task = RunTask.parse(given);
    } catch (IllegalArgumentException e) {
      throw AdminValidation.invalid("task", "'task' must be 'generate', 'embed' or 'rerank'");
    }
    if (task == RunTask.RERANK && InProcessLlamaEngine.KIND.equals(engine)) {
      throw AdminValidation.invalid("task", "task 'rerank' needs engine 'llama-server'; the in-process engine does not rerank");
    }
    return task.wire();
  }

  /** The model's SHA-256, after checking it is a GGUF file; {@code given} (if any) must match. */
  private static String checkedDigest(Path model, String given) {
    if (!Files.isRegularFile(model)) {
      throw AdminValidation.invalid("model_path", "'model_path' " + model + " is not a file on this control node");
    }
    try {
      GgufReader.read(model);
    } catch (IOException | RuntimeException e) {
      throw AdminValidation.invalid("model_path", "'model_path' " + model + " is not a readable GGUF model: " + e.getMessage());
    }
    String digest;
    try {
      digest = Digests.sha256Cached(model);
    } catch (IOException e) {
      throw AdminValidation.invalid("model_path", "'model_path' " + model + " cannot be read: " + e.getMessage());
    }
    if (given != null && !given.equalsIgnoreCase(digest)) {
      throw AdminValidation.invalid("model_digest", "'model_digest' does not match the file's SHA-256 (" + digest + ")");
    }
    return digest;
  }

  private String engine(String engine) {
    if (!engines.contains(engine)) throw AdminValidation.invalid("engine", "'engine' must be one of " + engines);
    return engine;
  }

  private CompletionStage<HttpResponse> list(Principal p) {
    admin.allow(p, "pool.read", "", "pools", platformReader(p), "platform-admin or operator");
    return PoolEntity.all(system, timeout).thenCompose(pools -> {
      var bodies = pools.stream().map(v -> body(v).toCompletableFuture()).toList();
      return CompletableFuture.allOf(bodies.toArray(CompletableFuture[]::new))
          .thenApply(x -> json(StatusCodes.OK, new AdminResponses.Pools(bodies.stream().map(CompletableFuture::join).toList())));
    });
  }

  private CompletionStage<HttpResponse> read(Principal p, String id) {
    admin.allow(p, "pool.read", "", id, platformReader(p), "platform-admin or operator");
    return existing(id).thenCompose(this::body).thenApply(b -> json(StatusCodes.OK, b));
  }

  private CompletionStage<HttpResponse> update(Principal p, String id, byte[] body) {
    admin.allow(p, "pool.update", "", id, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.UpdatePool.class);
    if (req.split() != null) {
      if (req.model() != null || req.replicas() != null || req.engine() != null || req.strategy() != null) {
        throw AdminValidation.invalid("split", "a split changes nothing else: give 'replicas', 'engine' or 'model' in another request");
      }
      return startSplit(p, id, req);
    }
    if (req.model() != null) {
      if (req.replicas() != null || req.engine() != null) {
        throw AdminValidation.invalid("model", "a rollout ('model') changes nothing else: give 'replicas' or 'engine' in another request");
      }
      return startRollout(p, id, req);
    }
    if (req.strategy() != null || req.maxSurge() != null || req.maxUnavailable() != null || req.healthGate() != null) {
      throw AdminValidation.invalid("model", "'strategy', 'max_surge', 'max_unavailable' and 'health_gate' go with 'model' (a rollout)");
    }
    if (req.replicas() == null && req.engine() == null) throw AdminValidation.invalid("replicas", "give 'replicas', 'engine', both, or 'model'");
    Integer replicas = req.replicas() == null ? null : AdminValidation.between("replicas", req.replicas(), 0, 0, 1024);
    // An upstream pool's replica count is its upstreams' (the entity refuses another); its engine stays.
    String engine = req.engine() == null ? null : engine(req.engine());
    var ref = sharding.entityRefFor(PoolEntity.ENTITY_KEY, id);
    // A pool that does not exist refuses: 404 not_found. The reconciler assigns the changed slot specs
    // again, and each node agent replaces the engines.
    CompletionStage<PoolEntity.PoolView> done = replicas != null
        ? ref.askWithStatus(r -> new PoolEntity.SetReplicas(replicas, r), timeout)
        : ref.askWithStatus(r -> new PoolEntity.SetEngine(engine, r), timeout);
    if (replicas != null && engine != null) done = done.thenCompose(v -> ref.askWithStatus(r -> new PoolEntity.SetEngine(engine, r), timeout));
    return done.thenCompose(v -> {
      reconciler.tell(new ReplicaReconciler.ReconcileNow());
      var changed = new LinkedHashMap<String, String>();
      if (replicas != null) changed.put("replicas", "" + replicas);
      if (engine != null) changed.put("engine", engine);
      audit.record("", p.keyId(), "pool.update", id, "ok", "", changed);
      return body(v).thenApply(b -> json(StatusCodes.OK, b));
    });
  }

  /** {@code PATCH {"model": "name@v2", ...}}: a rollout of the pool to a catalog version ({@link Rollout}). */
  private CompletionStage<HttpResponse> startRollout(Principal p, String id, AdminRequests.UpdatePool req) {
    ModelRef ref = modelRef(req.model());
    String strategy = req.strategy() == null ? Rollout.ROLLING_STRATEGY : req.strategy();
    if (!strategy.equals(Rollout.ROLLING_STRATEGY) && !strategy.equals(Rollout.BLUE_GREEN)) {
      throw AdminValidation.invalid("strategy", "'strategy' must be 'rolling' or 'blue-green'");
    }
    int surge = AdminValidation.between("max_surge", req.maxSurge(), 1, 1, 1024);
    int unavailable = AdminValidation.between("max_unavailable", req.maxUnavailable(), 0, 0, 1024);
    var gate = gate(req.healthGate());
    return existing(id).thenCombine(catalogVersion(ref), (pool, v) -> {
      var current = pool.spec();
      if (!current.loadsModelFile()) {
        throw AdminValidation.invalid("model", "pool " + id + " of engine " + current.engine() + " has no model file to roll out");
      }
      var next = new PoolSpec(current.modelId(), blobs.pathOf(v.version().sha256()).toString(), v.version().sha256(), current.engine(),
          current.replicas(), current.contextPerSequence(), current.parallel(), current.threads(), current.gpuOffload(), current.task(),
          ref.name() + "@" + v.version().version());
      var now = java.time.Instant.now();
      return new Rollout(next, strategy, surge, unavailable, gate, Rollout.CANARY, null, now, now, "started by " + p.keyId());
    }).thenCompose(r -> sharding.entityRefFor(PoolEntity.ENTITY_KEY, id).<PoolEntity.PoolView>askWithStatus(x -> new PoolEntity.StartRollout(r, x), timeout)
        .thenCompose(v -> {
          reconciler.tell(new ReplicaReconciler.ReconcileNow());
          audit.record("", p.keyId(), "pool.rollout.start", id, "ok", "", Map.of("from", String.valueOf(v.spec().catalogRef()),
              "to", r.target(), "strategy", strategy, "max_surge", "" + surge, "max_unavailable", "" + unavailable));
          return body(v).thenApply(b -> json(StatusCodes.ACCEPTED, b));
        }));
  }

  /**
   * {@code PATCH {"split": {"v1": 90, "v2": 10}}}: the pool's version and another version of its model, by
   * version name (or {@code name@version}), with percents adding up to 100.
   */
  private CompletionStage<HttpResponse> startSplit(Principal p, String id, AdminRequests.UpdatePool req) {
    var split = req.split();
    if (split.size() != 2) throw AdminValidation.invalid("split", "'split' names two versions: the pool's and another");
    for (var e : split.entrySet()) {
      if (e.getValue() == null || e.getValue() < 1 || e.getValue() > 99) {
        throw AdminValidation.invalid("split", "each version of a split gets 1 to 99 percent");
      }
    }
    if (split.values().stream().mapToInt(Integer::intValue).sum() != 100) throw AdminValidation.invalid("split", "the percents of a split add up to 100");
    var gate = gate(req.healthGate());
    return existing(id).thenCompose(pool -> {
      String currentRef = pool.spec().catalogRef();
      if (currentRef == null) throw AdminValidation.invalid("split", "pool " + id + " serves a model_path, not a catalog version");
      ModelRef current = ModelRef.parse(currentRef);
      String other = null;
      boolean hasCurrent = false;
      for (String k : split.keySet()) {
        String version = k.contains("@") ? modelRef(k).version() : k;
        if (k.contains("@") && !modelRef(k).name().equals(current.name())) {
          throw AdminValidation.invalid("split", "a split is between versions of " + current.name());
        }
        if (version.equals(current.version())) hasCurrent = true;
        else other = version;
      }
      if (!hasCurrent || other == null) {
        throw AdminValidation.invalid("split", "a split names the pool's version (" + current.version() + ") and one other");
      }
      String otherVersion = other;
      int percent = split.entrySet().stream().filter(e -> !(e.getKey().equals(current.version()) || e.getKey().equals(currentRef)))
          .mapToInt(Map.Entry::getValue).sum();
      return catalogVersion(new ModelRef(current.name(), otherVersion)).thenApply(v -> {
        var next = pool.spec().withModel(blobs.pathOf(v.version().sha256()).toString(), v.version().sha256(), current.name() + "@" + otherVersion);
        var now = java.time.Instant.now();
        return new Rollout(next, Rollout.SPLIT_STRATEGY, 1, 0, gate, Rollout.SPLIT, null, now, now,
            "split " + (100 - percent) + "/" + percent + " by " + p.keyId(), percent);
      });
    }).thenCompose(r -> sharding.entityRefFor(PoolEntity.ENTITY_KEY, id).<PoolEntity.PoolView>askWithStatus(x -> new PoolEntity.StartRollout(r, x), timeout)
        .thenCompose(v -> {
          reconciler.tell(new ReplicaReconciler.ReconcileNow());
          audit.record("", p.keyId(), "pool.split.start", id, "ok", "", Map.of("from", String.valueOf(v.spec().catalogRef()),
              "to", r.target(), "percent_to", "" + r.splitPercent()));
          return body(v).thenApply(b -> json(StatusCodes.ACCEPTED, b));
        }));
  }

  private static Rollout.HealthGate gate(AdminRequests.HealthGate g) {
    var d = Rollout.HealthGate.DEFAULT;
    if (g == null) return d;
    int minRuns = AdminValidation.between("health_gate.min_runs", g.minRuns(), d.minRuns(), 0, 1_000_000);
    long timeout = AdminValidation.range("health_gate.timeout_seconds", g.timeoutSeconds() == null ? d.timeoutSeconds() : g.timeoutSeconds(), 86_400);
    int restarts = AdminValidation.between("health_gate.max_restarts", g.maxRestarts(), d.maxRestarts(), 0, 100);
    return new Rollout.HealthGate(minRuns, Math.max(1, timeout), ratio("health_gate.max_error_rate", g.maxErrorRate(), d.maxErrorRate(), 1),
        ratio("health_gate.max_ttft_p95_ratio", g.maxTtftP95Ratio(), d.maxTtftP95Ratio(), 1000),
        ratio("health_gate.min_tokens_per_second_ratio", g.minTokensPerSecondRatio(), d.minTokensPerSecondRatio(), 1000), restarts);
  }

  private static double ratio(String field, Double value, double dflt, double max) {
    if (value == null) return dflt;
    if (value.isNaN() || value < 0 || value > max) throw AdminValidation.invalid(field, "'" + field + "' must be between 0 and " + max);
    return value;
  }

  /** The rollout with each version's figures since it began (the runs this node recorded). */
  private CompletionStage<HttpResponse> rollout(Principal p, String id) {
    admin.allow(p, "pool.read", "", id, platformReader(p), "platform-admin or operator");
    return existing(id).thenCompose(v -> {
      if (v.rollout() == null) throw new DalangException(ErrorCode.NOT_FOUND, "pool " + id + " has never had a rollout");
      return org.apache.pekko.actor.typed.javadsl.AskPattern.<TelemetryActor.Command, TelemetryActor.VersionStats>ask(telemetry,
          r -> new TelemetryActor.GetVersionStats(id, v.rollout().startedAt().toEpochMilli(), r), timeout, system.scheduler())
          .thenApply(stats -> {
            var b = rolloutBody(v);
            var r = v.rollout();
            String oldRef = r.phase().equals(Rollout.DONE) ? null : v.spec().catalogRef();
            var figures = new ArrayList<AdminResponses.VersionFigures>();
            if (oldRef != null) figures.add(figures(oldRef, stats.of(v.spec().modelDigest())));
            figures.add(figures(r.target(), stats.of(r.next().modelDigest())));
            return json(StatusCodes.OK, new AdminResponses.Rollout(b.target(), b.strategy(), b.phase(), b.startedAt(), b.updatedAt(), b.note(),
                b.maxSurge(), b.maxUnavailable(), b.healthGate(), b.replicasOld(), b.replicasNew(), b.splitPercent(), figures));
          });
    });
  }

  private static AdminResponses.VersionFigures figures(String version, TelemetryActor.Stats s) {
    return new AdminResponses.VersionFigures(version, s.runs(), s.failed(), s.valid(), s.errorRate(), s.ttftP95Ms(), s.tokensPerSecondP50());
  }

  /** {@code pause}, {@code resume} or {@code abort} (back to the old version) a rollout under way. */
  private CompletionStage<HttpResponse> rolloutAction(Principal p, String id, String action) {
    admin.allow(p, "pool.update", "", id, platformAdmin(p), "platform-admin");
    if (!List.of("pause", "resume", "abort", "promote").contains(action)) {
      throw new DalangException(ErrorCode.NOT_FOUND, "no rollout action '" + action + "': pause, resume, abort or promote");
    }
    return existing(id).thenCompose(v -> {
      if (!v.rollingOut()) throw new DalangException(ErrorCode.CONFLICT, "pool " + id + " has no rollout under way");
      var r = v.rollout();
      String to = switch (action) {
        case "pause" -> Rollout.PAUSED;
        case "resume" -> {
          if (!r.phase().equals(Rollout.PAUSED)) throw new DalangException(ErrorCode.CONFLICT, "the rollout of pool " + id + " is not paused");
          yield r.resumeTo();
        }
        case "promote" -> {
          if (!r.phase().equals(Rollout.SPLIT)) throw new DalangException(ErrorCode.CONFLICT, "pool " + id + " has no split to promote");
          yield Rollout.ROLLING;
        }
        default -> Rollout.ROLLING_BACK;
      };
      String note = switch (action) {
        case "pause" -> "paused by ";
        case "resume" -> "resumed by ";
        case "promote" -> "split promoted by ";
        default -> "aborted by ";
      } + p.keyId();
      return sharding.entityRefFor(PoolEntity.ENTITY_KEY, id)
          .<PoolEntity.PoolView>askWithStatus(x -> new PoolEntity.StepRollout(r.phase(), to, note, x), timeout)
          .thenApply(after -> {
            reconciler.tell(new ReplicaReconciler.ReconcileNow());
            audit.record("", p.keyId(), "pool.rollout." + action, id, "ok", "", Map.of("to", r.target(), "phase", to));
            return json(StatusCodes.OK, rolloutBody(after));
          });
    });
  }

  static AdminResponses.Rollout rolloutBody(PoolEntity.PoolView v) {
    var r = v.rollout();
    var g = r.gate();
    int neu = (int) v.slots().stream().filter(PoolEntity.SlotPlacement::next).count();
    return new AdminResponses.Rollout(r.target(), r.strategy(), r.phase(), r.startedAt().toString(), r.updatedAt().toString(), r.note(),
        r.maxSurge(), r.maxUnavailable(), new AdminResponses.HealthGate(g.minRuns(), g.timeoutSeconds(), g.maxErrorRate(), g.maxTtftP95Ratio(),
            g.minTokensPerSecondRatio(), g.maxRestarts()), v.slots().size() - neu, neu,
        r.strategy().equals(Rollout.SPLIT_STRATEGY) ? r.splitPercent() : null, null);
  }

  private CompletionStage<PoolEntity.PoolView> existing(String id) {
    return sharding.entityRefFor(PoolEntity.ENTITY_KEY, id).<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, timeout).thenApply(v -> {
      if (!v.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "pool " + id + " does not exist");
      return v;
    });
  }

  /** The pool as JSON, each replica with its slot's state as its entity has it. */
  private CompletionStage<AdminResponses.Pool> body(PoolEntity.PoolView v) {
    var slots = v.slots().stream().map(s -> sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, s.slotId())
        .<ModelSlotEntity.SlotView>ask(ModelSlotEntity.GetSlot::new, timeout).toCompletableFuture()
        .handle((view, err) -> SlotViews.replica(s.slotId(), s.nodeId(), s.deviceId(), s.gpuLayers(), err != null ? "unknown" : view.state(),
            err != null ? null : view.detail())))
        .toList();
    return CompletableFuture.allOf(slots.toArray(CompletableFuture[]::new)).thenApply(d -> {
      var spec = v.spec();
      var list = new ArrayList<>(slots.stream().map(CompletableFuture::join).toList());
      list.sort(Comparator.comparing(SlotView::slotId));
      return new AdminResponses.Pool(v.poolId(), spec.modelId(), spec.modelPath(), spec.modelDigest(), spec.engine(), spec.replicas(),
          spec.contextPerSequence(), spec.parallel(), spec.threads(), spec.gpuOffload(), spec.task(), spec.catalogRef(), list,
          v.rollout() == null ? null : rolloutBody(v), upstreamsBody(spec), simulatedBody(spec));
    });
  }

  private static List<AdminRequests.Upstream> upstreamsBody(PoolSpec s) {
    return s.upstreams() == null ? null
        : s.upstreams().stream().map(u -> new AdminRequests.Upstream(u.provider(), u.model(), u.maxSequences())).toList();
  }

  private static AdminRequests.Simulated simulatedBody(PoolSpec s) {
    var g = s.simulated();
    return g == null ? null : new AdminRequests.Simulated(g.ttftMs(), g.itlMs(), g.outputTokens(), g.errorRate(), g.jitter(), g.seed(), g.maxSequences());
  }
}
