package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;
import static io.dalang.runtime.admin.AdminDirectives.platformReader;

import io.dalang.actors.model.ModelEntity;
import io.dalang.actors.model.ModelVersion;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.model.ModelRef;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.models.ModelImports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The model catalog under {@code /admin/v1/models}: add a version from a file or a URL (an import that
 * the caller follows under {@code /admin/v1/model-imports/{id}}), list and read models with their
 * versions and the pools that serve them, remove a version or a whole model (refused while a pool
 * names it). A name with {@code /} in it is sent percent-encoded ({@code org%2Fname}).
 *
 * <pre>
 * model.add, model.remove   platform-admin (audited; allow_private included)
 * model.prefetch            platform-admin (audited)
 * model.read                platform-admin, operator
 * </pre>
 */
final class ModelRoutes extends AllDirectives implements AdminRoute {
  /** Labels one version may carry, and their sizes. */
  static final int MAX_LABELS = 32;
  static final int MAX_LABEL_KEY = 64;
  static final int MAX_LABEL_VALUE = 256;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final AuditSink audit;
  private final AdminDirectives admin;
  private final ModelImports imports;

  ModelRoutes(ActorSystem<?> system, AdminDirectives admin, Duration timeout, AuditSink audit, ModelImports imports) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.audit = audit;
    this.admin = admin;
    this.imports = imports;
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path("models", () -> concat(
            post(() -> admin.body(b -> completeWithFuture(add(p, b)))),
            get(() -> completeWithFuture(list(p))))),
        path(PathMatchers.segment("models").slash(PathMatchers.segment()), name -> concat(
            get(() -> completeWithFuture(read(p, name))),
            delete(() -> completeWithFuture(remove(p, name, null))))),
        path(PathMatchers.segment("models").slash(PathMatchers.segment()).slash("versions").slash(PathMatchers.segment()), (name, version) ->
            delete(() -> completeWithFuture(remove(p, name, version)))),
        path(PathMatchers.segment("models").slash(PathMatchers.segment()).slash("prefetch"), name ->
            post(() -> admin.body(b -> completeWithFuture(prefetch(p, name, b))))),
        path(PathMatchers.segment("model-imports").slash(PathMatchers.segment()), id -> get(() -> complete(importView(p, id)))));
  }

  private CompletionStage<HttpResponse> add(Principal p, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.AddModel.class);
    admin.allow(p, "model.add", "", req.name() == null ? "" : req.name(), platformAdmin(p), "platform-admin");
    String name = name(req.name());
    if (req.version() != null && !ModelRef.VERSION.matcher(req.version()).matches()) {
      throw AdminValidation.invalid("version", "'version' is 1 to 64 of A-Z a-z 0-9 . _ - and starts with a letter or digit");
    }
    if (req.sha256() != null && !req.sha256().matches("[0-9a-fA-F]{64}")) {
      throw AdminValidation.invalid("sha256", "'sha256' is 64 hexadecimal digits");
    }
    if (req.parent() != null && req.parent().length() > 256) throw AdminValidation.invalid("parent", "'parent' is longer than 256 characters");
    var labels = labels(req.labels());
    boolean allowPrivate = Boolean.TRUE.equals(req.allowPrivate());
    var request = new ModelImports.Request(name, req.from(), req.sha256(), req.version(), labels, req.parent(), allowPrivate, p.keyId());
    return imports.start(request, (r, done) -> {
      var details = new LinkedHashMap<String, String>();
      details.put("import", done.id());
      details.put("from", done.source());
      if (done.version() != null) details.put("version", done.version());
      if (done.sha256() != null) details.put("sha256", done.sha256());
      if (r.allowPrivate()) details.put("allow_private", "true");
      audit.record("", r.addedBy(), "model.add", r.name(), done.status().equals("done") ? "ok" : "failed",
          done.error() == null ? "" : done.error(), details);
    }).thenApply(first -> {
      audit.record("", p.keyId(), "model.import", name, "ok", "", allowPrivate
          ? Map.of("import", first.id(), "from", first.source(), "allow_private", "true")
          : Map.of("import", first.id(), "from", first.source()));
      return json(StatusCodes.ACCEPTED, first);
    });
  }

  private CompletionStage<HttpResponse> prefetch(Principal p, String name, byte[] body) {
    var req = body.length == 0 ? new AdminRequests.PrefetchModel(null, null, null) : Json.parseStrict(body, AdminRequests.PrefetchModel.class);
    admin.allow(p, "model.prefetch", "", name, platformAdmin(p), "platform-admin");
    if (req.version() != null && !ModelRef.VERSION.matcher(req.version()).matches()) throw AdminValidation.invalid("version", "'version' is not a version name");
    if (req.nodes() != null && req.pool() != null) throw AdminValidation.invalid("nodes", "give 'nodes' or 'pool', not both");
    if (req.nodes() != null && req.nodes().size() > 10_000) throw AdminValidation.invalid("nodes", "at most 10000 nodes");
    ModelRef ref = new ModelRef(name(name), req.version());
    CompletionStage<java.util.Set<String>> targets = req.pool() != null
        ? sharding.entityRefFor(PoolEntity.ENTITY_KEY, AdminValidation.id("pool", req.pool())).<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, timeout)
            .thenApply(v -> {
              if (!v.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "pool " + req.pool() + " does not exist");
              return v.slots().stream().map(PoolEntity.SlotPlacement::nodeId).collect(java.util.stream.Collectors.toSet());
            })
        : CompletableFuture.completedFuture(req.nodes() == null ? null : java.util.Set.copyOf(req.nodes()));
    return existing(name).thenCombine(targets, (m, nodes) -> {
      var v = m.resolve(ref).orElseThrow(() -> new DalangException(ErrorCode.NOT_FOUND, "model " + name + " has no version " + ref.version()));
      return java.util.Map.entry(v, nodes == null ? java.util.Set.<String>of() : nodes);
    }).thenCompose(target -> {
      var v = target.getKey();
      var wanted = target.getValue();
      boolean everyNode = req.nodes() == null && req.pool() == null;
      return ModelCaches.prefetch(system, timeout, v.sha256(), imports.store().pathOf(v.sha256()).toString(),
          name + "@" + v.version(), everyNode ? null : wanted).thenApply(answers -> {
        var nodes = new ArrayList<AdminResponses.PrefetchNode>();
        var seen = new java.util.HashSet<String>();
        for (var a : answers) {
          seen.add(a.nodeId());
          nodes.add(new AdminResponses.PrefetchNode(a.nodeId(), a.accepted(), a.note()));
        }
        for (String n : wanted) if (!seen.contains(n)) nodes.add(new AdminResponses.PrefetchNode(n, false, "no GPU node with this id answered"));
        nodes.sort(Comparator.comparing(AdminResponses.PrefetchNode::nodeId));
        audit.record("", p.keyId(), "model.prefetch", name + "@" + v.version(), "ok", "",
            Map.of("nodes", String.join(",", nodes.stream().filter(AdminResponses.PrefetchNode::accepted).map(AdminResponses.PrefetchNode::nodeId).toList())));
        return json(StatusCodes.ACCEPTED, new AdminResponses.ModelPrefetch(name, v.version(), v.sha256(), nodes));
      });
    });
  }

  private static String name(String name) {
    if (name == null || !ModelRef.NAME.matcher(name).matches()) {
      throw AdminValidation.invalid("name", "'name' is 1 to 128 of A-Z a-z 0-9 . _ : / - and starts with a letter or digit");
    }
    return name;
  }

  private static Map<String, String> labels(Map<String, String> labels) {
    if (labels == null) return Map.of();
    if (labels.size() > MAX_LABELS) throw AdminValidation.invalid("labels", "at most " + MAX_LABELS + " labels");
    for (var e : labels.entrySet()) {
      if (!e.getKey().matches("[A-Za-z0-9][A-Za-z0-9._/-]{0," + (MAX_LABEL_KEY - 1) + "}")) {
        throw AdminValidation.invalid("labels", "label key '" + e.getKey() + "' is not 1 to " + MAX_LABEL_KEY + " of A-Z a-z 0-9 . _ / -");
      }
      if (e.getValue() == null || e.getValue().length() > MAX_LABEL_VALUE) {
        throw AdminValidation.invalid("labels", "label " + e.getKey() + " needs a value of at most " + MAX_LABEL_VALUE + " characters");
      }
    }
    return labels;
  }

  private HttpResponse importView(Principal p, String id) {
    admin.allow(p, "model.read", "", id, platformReader(p), "platform-admin or operator");
    return imports.get(id).map(v -> json(StatusCodes.OK, v))
        .orElseThrow(() -> new DalangException(ErrorCode.NOT_FOUND, "no model import " + id + " on this node"));
  }

  private CompletionStage<HttpResponse> list(Principal p) {
    admin.allow(p, "model.read", "", "models", platformReader(p), "platform-admin or operator");
    return ReplicaReconciler.journalIds(system, ModelEntity.ENTITY_KEY.name()).thenCompose(names -> pools().thenCompose(pools -> {
      var views = names.stream().sorted().map(n -> ModelEntity.get(system, n, timeout).toCompletableFuture()).toList();
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(d -> json(StatusCodes.OK, new AdminResponses.Models(
          views.stream().map(CompletableFuture::join).filter(ModelEntity.ModelView::exists).map(m -> body(m, pools)).toList())));
    }));
  }

  private CompletionStage<HttpResponse> read(Principal p, String name) {
    admin.allow(p, "model.read", "", name, platformReader(p), "platform-admin or operator");
    return existing(name).thenCompose(m -> pools().thenApply(pools -> json(StatusCodes.OK, body(m, pools))));
  }

  private CompletionStage<HttpResponse> remove(Principal p, String name, String version) {
    admin.allow(p, "model.remove", "", version == null ? name : name + "@" + version, platformAdmin(p), "platform-admin");
    return existing(name).thenCompose(m -> pools().thenCompose(pools -> {
      var users = new ArrayList<String>();
      for (var e : pools.entrySet()) {
        ModelRef ref = ModelRef.parse(e.getValue());
        if (ref.name().equals(name) && (version == null || version.equals(ref.version()))) users.add(e.getKey());
      }
      if (!users.isEmpty()) {
        throw new DalangException(ErrorCode.CONFLICT, "model " + (version == null ? name : name + "@" + version) + " is served by pool(s) "
            + users + "; move them to another model or delete them first");
      }
      return sharding.entityRefFor(ModelEntity.ENTITY_KEY, name).<ModelEntity.Removed>askWithStatus(r -> new ModelEntity.RemoveVersions(version, r), timeout);
    })).thenApply(gone -> {
      var versions = gone.versions().stream().map(ModelVersion::version).toList();
      audit.record("", p.keyId(), "model.remove", name, "ok", "", Map.of("versions", String.join(",", versions)));
      // The blobs stay in the store: another model may be the same blob, and nodes evict what no slot uses.
      return json(StatusCodes.OK, new AdminResponses.ModelsRemoved(name, versions));
    });
  }

  private CompletionStage<ModelEntity.ModelView> existing(String name) {
    return ModelEntity.get(system, name, timeout).thenApply(m -> {
      if (!m.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "model " + name + " is not in the catalog");
      return m;
    });
  }

  /** Each pool that serves a catalog model, with the version it names ({@code name@v}); a rollout's target as {@code "<pool> (rolling out)"}. */
  private CompletionStage<Map<String, String>> pools() {
    return PoolEntity.all(system, timeout).thenApply(views -> {
      var out = new LinkedHashMap<String, String>();
      for (var v : views) {
        if (v.spec().catalogRef() != null) out.put(v.poolId(), v.spec().catalogRef());
        // A rollout's target is in use too: its new replicas run it, and a rollback needs the old one.
        if (v.rollingOut()) out.put(v.poolId() + " (rolling out)", v.rollout().target());
      }
      return out;
    });
  }

  private static AdminResponses.Model body(ModelEntity.ModelView m, Map<String, String> pools) {
    var versions = m.versions().stream().sorted(Comparator.comparingInt(ModelVersion::sequence)).map(v -> new AdminResponses.ModelVersion(
        v.version(), v.sha256(), v.size(), v.format(), v.architecture(), v.contextLength(), v.quantization(), v.parameterCount(),
        v.tensorBytes(), v.source(), v.parent(), v.addedBy(), v.addedAt().toString(), v.labels(), "available")).toList();
    var users = pools.entrySet().stream().filter(e -> ModelRef.parse(e.getValue()).name().equals(m.name())).map(Map.Entry::getKey).sorted().toList();
    String latest = m.resolve(new ModelRef(m.name(), null)).map(ModelVersion::version).orElse(null);
    return new AdminResponses.Model(m.name(), latest, versions, users);
  }
}
