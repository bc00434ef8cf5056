package io.dalang.runtime.admin;

import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.PoolSpec;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.engine.Digests;
import io.dalang.gguf.GgufReader;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
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
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

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
 * <p>The model file must be readable on the control node that takes the request (its GGUF header sizes
 * the replicas) and at the same path on every gpu node that may run a replica.
 */
final class PoolAdmin extends AllDirectives {
  /** Checks a role and audits a denial; {@link AdminApi#allow}. */
  interface Access {
    void allow(Principal p, String action, String tenant, String target, boolean allowed, String who);
  }

  private final ClusterSharding sharding;
  private final Duration timeout;
  private final AuditSink audit;
  private final Access access;
  private final ActorSystem<?> system;
  private final ActorRef<ReplicaReconciler.Command> reconciler;
  private final List<String> engines;
  private final String defaultEngine;
  private final Executor blocking;

  PoolAdmin(ActorSystem<?> system, Duration timeout, AuditSink audit, Access access, ActorRef<ReplicaReconciler.Command> reconciler,
      List<String> engines, String defaultEngine) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.audit = audit;
    this.access = access;
    this.reconciler = reconciler;
    this.engines = engines;
    this.defaultEngine = defaultEngine;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  Route route(Principal p) {
    return concat(
        path("pools", () -> concat(
            post(() -> entity(Unmarshaller.entityToByteString(), b -> completeWithFuture(create(p, b.toArray())))),
            get(() -> completeWithFuture(list(p))))),
        path(PathMatchers.segment("pools").slash(PathMatchers.segment()), id -> concat(
            get(() -> completeWithFuture(read(p, id))),
            patch(() -> entity(Unmarshaller.entityToByteString(), b -> completeWithFuture(update(p, id, b.toArray())))))));
  }

  private boolean platformAdmin(Principal p) {
    return p.role() == io.dalang.protocols.auth.Role.PLATFORM_ADMIN;
  }

  private CompletionStage<HttpResponse> create(Principal p, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.CreatePool.class);
    access.allow(p, "pool.create", "", req.id() == null ? "" : req.id(), platformAdmin(p), "platform-admin");
    String id = AdminValidation.id("id", req.id());
    String modelId = AdminValidation.modelId("model_id", req.modelId());
    if (req.modelPath() == null || req.modelPath().isBlank()) throw AdminValidation.invalid("model_path", "'model_path' is required");
    Path model = Path.of(req.modelPath()).toAbsolutePath().normalize();
    String engine = engine(req.engine() == null ? defaultEngine : req.engine());
    int replicas = AdminValidation.between("replicas", req.replicas(), 1, 0, 1024);
    int context = AdminValidation.between("context_per_sequence", req.contextPerSequence(), 4096, 16, 1 << 20);
    int parallel = AdminValidation.between("parallel", req.parallel(), 4, 1, 256);
    int threads = AdminValidation.between("threads", req.threads(), Math.max(1, Runtime.getRuntime().availableProcessors() / 2), 1, 1024);
    String offload = req.gpuOffload() == null ? PoolSpec.OFFLOAD_PARTIAL : req.gpuOffload();
    if (!offload.equals(PoolSpec.OFFLOAD_FULL) && !offload.equals(PoolSpec.OFFLOAD_PARTIAL)) {
      throw AdminValidation.invalid("gpu_offload", "'gpu_offload' must be 'full' or 'partial'");
    }
    // Reading and hashing the model touches the disk: not on the route's thread.
    return CompletableFuture.supplyAsync(() -> checkedDigest(model, req.modelDigest()), blocking)
        .thenCompose(digest -> {
          var spec = new PoolSpec(modelId, model.toString(), digest, engine, replicas, context, parallel, threads, offload);
          var ref = sharding.entityRefFor(PoolEntity.ENTITY_KEY, id);
          return ref.<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, timeout).thenCompose(existing -> {
            if (existing.exists()) throw new DalangException(ErrorCode.CONFLICT, "pool " + id + " already exists");
            return ref.<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.CreatePool(spec, r), timeout);
          });
        })
        .thenCompose(v -> {
          reconciler.tell(new ReplicaReconciler.ReconcileNow());
          audit.record("", p.keyId(), "pool.create", id, "ok", "", Map.of("model_id", modelId, "model_path", model.toString(),
              "engine", engine, "replicas", "" + replicas));
          return body(v).thenApply(b -> AdminApi.json(StatusCodes.CREATED, b));
        });
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
    access.allow(p, "pool.read", "", "pools", platformAdmin(p) || p.role() == io.dalang.protocols.auth.Role.OPERATOR,
        "platform-admin or operator");
    return ReplicaReconciler.journalIds(system, PoolEntity.ENTITY_KEY.name()).thenCompose(ids -> {
      var views = ids.stream().sorted().map(id -> sharding.entityRefFor(PoolEntity.ENTITY_KEY, id)
          .<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, timeout).toCompletableFuture()).toList();
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenCompose(d -> {
        var bodies = views.stream().map(CompletableFuture::join).filter(PoolEntity.PoolView::exists)
            .map(v -> body(v).toCompletableFuture()).toList();
        return CompletableFuture.allOf(bodies.toArray(CompletableFuture[]::new))
            .thenApply(x -> AdminApi.json(StatusCodes.OK, Map.of("pools", bodies.stream().map(CompletableFuture::join).toList())));
      });
    });
  }

  private CompletionStage<HttpResponse> read(Principal p, String id) {
    access.allow(p, "pool.read", "", id, platformAdmin(p) || p.role() == io.dalang.protocols.auth.Role.OPERATOR,
        "platform-admin or operator");
    return existing(id).thenCompose(this::body).thenApply(b -> AdminApi.json(StatusCodes.OK, b));
  }

  private CompletionStage<HttpResponse> update(Principal p, String id, byte[] body) {
    access.allow(p, "pool.update", "", id, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.UpdatePool.class);
    if (req.replicas() == null && req.engine() == null) throw AdminValidation.invalid("replicas", "give 'replicas', 'engine' or both");
    Integer replicas = req.replicas() == null ? null : AdminValidation.between("replicas", req.replicas(), 0, 0, 1024);
    String engine = req.engine() == null ? null : engine(req.engine());
    var ref = sharding.entityRefFor(PoolEntity.ENTITY_KEY, id);
    CompletionStage<PoolEntity.PoolView> done = existing(id);
    if (replicas != null) done = done.thenCompose(v -> ref.askWithStatus(r -> new PoolEntity.SetReplicas(replicas, r), timeout));
    // The reconciler assigns the changed slot specs again, and each node agent replaces the engines.
    if (engine != null) done = done.thenCompose(v -> ref.askWithStatus(r -> new PoolEntity.SetEngine(engine, r), timeout));
    return done.thenCompose(v -> {
      reconciler.tell(new ReplicaReconciler.ReconcileNow());
      var changed = new LinkedHashMap<String, String>();
      if (replicas != null) changed.put("replicas", "" + replicas);
      if (engine != null) changed.put("engine", engine);
      audit.record("", p.keyId(), "pool.update", id, "ok", "", changed);
      return body(v).thenApply(b -> AdminApi.json(StatusCodes.OK, b));
    });
  }

  private CompletionStage<PoolEntity.PoolView> existing(String id) {
    return sharding.entityRefFor(PoolEntity.ENTITY_KEY, id).<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, timeout).thenApply(v -> {
      if (!v.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "pool " + id + " does not exist");
      return v;
    });
  }

  /** The pool as JSON, each replica with its slot's state as its entity has it. */
  private CompletionStage<Map<String, Object>> body(PoolEntity.PoolView v) {
    var slots = v.slots().stream().map(s -> sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, s.slotId())
        .<ModelSlotEntity.SlotView>ask(ModelSlotEntity.GetSlot::new, timeout).toCompletableFuture()
        .handle((view, err) -> {
          var m = new LinkedHashMap<String, Object>();
          m.put("slot_id", s.slotId());
          m.put("node", s.nodeId());
          m.put("device", s.deviceId());
          m.put("gpu_layers", s.gpuLayers());
          m.put("state", err != null ? "unknown" : view.state());
          return (Map<String, Object>) m;
        })).toList();
    return CompletableFuture.allOf(slots.toArray(CompletableFuture[]::new)).thenApply(d -> {
      var spec = v.spec();
      var m = new LinkedHashMap<String, Object>();
      m.put("id", v.poolId());
      m.put("model_id", spec.modelId());
      m.put("model_path", spec.modelPath());
      m.put("model_digest", spec.modelDigest());
      m.put("engine", spec.engine());
      m.put("replicas", spec.replicas());
      m.put("context_per_sequence", spec.contextPerSequence());
      m.put("parallel", spec.parallel());
      m.put("threads", spec.threads());
      m.put("gpu_offload", spec.gpuOffload());
      var list = new ArrayList<>(slots.stream().map(CompletableFuture::join).toList());
      list.sort(Comparator.comparing(s -> (String) s.get("slot_id")));
      m.put("slots", list);
      return m;
    });
  }
}
