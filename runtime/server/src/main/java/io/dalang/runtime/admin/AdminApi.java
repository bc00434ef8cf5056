package io.dalang.runtime.admin;

import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditGate;
import io.dalang.actors.audit.AuditExport;
import io.dalang.actors.audit.AuditFilter;
import io.dalang.actors.audit.AuditOutcome;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.secrets.SecretValue;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.actors.jobs.JobLimits;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.chaos.Chaos;
import io.dalang.engine.chaos.ChaosPlan;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.AuthDenied;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.ClientAddress;
import io.dalang.runtime.http.ErrorMapper;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.jobs.JobService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The admin API under {@code /admin/v1}: tenants, their keys and quotas, platform keys, the fleet.
 * Every endpoint names the roles it admits ({@link #allow}), and every check is tenant-scoped: a key
 * of tenant A never reads or changes anything of tenant B. Every change and every denial is audited.
 * Bodies are read strictly ({@link Json#parseStrict}, {@link AdminValidation}). Keys are shown once,
 * in the answer that issues them.
 *
 * <p>Who may do what:
 * <pre>
 * tenant.create, pool.grant, quota.set          platform-admin
 * tenant.read, quota.read, fallback.read        platform-admin, operator, the tenant's own keys
 * fallback.set                                  platform-admin; tenant-admin of the tenant
 * key.issue / key.rotate / key.revoke (tenant)  platform-admin; tenant-admin of the tenant (tenant roles only)
 * key.issue / key.revoke (platform)             platform-admin
 * fleet.read                                    platform-admin, operator
 * pool.create, pool.update                      platform-admin ({@link PoolAdmin})
 * pool.read                                     platform-admin, operator
 * provider.create, provider.update, .delete     platform-admin ({@link ProviderAdmin})
 * provider.read                                 platform-admin, operator
 * chaos.read                                    platform-admin, operator
 * chaos.set, chaos.clear                        platform-admin
 * </pre>
 */
public final class AdminApi extends AllDirectives {
  private static final List<Role> TENANT_ROLES = List.of(Role.TENANT_ADMIN, Role.TENANT_USER);
  private static final List<Role> PLATFORM_ROLES = List.of(Role.PLATFORM_ADMIN, Role.OPERATOR);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Authenticator auth;
  private final KeyService keys;
  private final AuditSink audit;
  private final ActorRef<PlacementActor.Command> placement;
  private final Duration timeout;
  private final Function<String, CompletionStage<Map<String, Object>>> usage;
  private final SecretsClient secrets;
  private final ActorRef<AuditActor.Command> ledger;
  private final AuditGate gate;
  private final AuditStore auditStore;
  private final int auditBlockSize;
  private final JobService jobs;
  private final PoolAdmin pools;
  private final HostAdmin host;
  private final ProviderAdmin providers;
  private final Chaos chaos;

  /**
   * @param usage a tenant's quota usage now (counters and reset times), for {@code GET .../quotas}
   * @param ledger the audit ledger's writer, for queries; {@code auditStore} for exports
   */
  public AdminApi(ActorSystem<?> system, Authenticator auth, KeyService keys, AuditSink audit,
      ActorRef<PlacementActor.Command> placement, Duration timeout, Function<String, CompletionStage<Map<String, Object>>> usage,
      SecretsClient secrets, ActorRef<AuditActor.Command> ledger, AuditStore auditStore, int auditBlockSize, JobService jobs,
      PoolSettings poolSettings, Chaos chaos) {
    this.jobs = jobs;
    this.chaos = chaos;
    this.pools = new PoolAdmin(system, timeout, audit, this::allow, poolSettings.reconciler(), poolSettings.engines(),
        poolSettings.defaultEngine());
    this.host = new HostAdmin(system, auditStore, auditBlockSize, this::allow);
    this.providers = new ProviderAdmin(system, timeout, audit, this::allow, secrets);
    this.secrets = secrets;
    this.ledger = ledger;
    this.gate = new AuditGate(ledger, system.scheduler(), timeout);
    this.auditStore = auditStore;
    this.auditBlockSize = auditBlockSize;
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.auth = auth;
    this.keys = keys;
    this.audit = audit;
    this.placement = placement;
    this.timeout = timeout;
    this.usage = usage;
  }

  /**
   * What the pool endpoints need: the replica reconciler to nudge, the engines a pool may name, and the
   * one it gets when it names none ({@code dalang.engine.default}).
   */
  public record PoolSettings(ActorRef<io.dalang.actors.pool.ReplicaReconciler.Command> reconciler, List<String> engines,
      String defaultEngine) {}

  /** The routes under {@code /admin/v1}; errors are rendered by the enclosing API's handlers. */
  public Route route() {
    return pathPrefix("admin", () -> pathPrefix("v1", () -> admin(p -> concat(
        path("tenants", () -> post(() -> body(b -> completeWithFuture(createTenant(p, b))))),
        pathPrefix("tenants", () -> pathPrefix(PathMatchers.segment(), tenant -> concat(
            pathEnd(() -> get(() -> completeWithFuture(getTenant(p, tenant)))),
            path("pools", () -> post(() -> body(b -> completeWithFuture(grantPool(p, tenant, b))))),
            path("quotas", () -> concat(
                get(() -> completeWithFuture(getQuotas(p, tenant))),
                put(() -> body(b -> completeWithFuture(setQuotas(p, tenant, b)))))),
            path("keys", () -> post(() -> body(b -> completeWithFuture(issueKey(p, tenant, b))))),
            path("fallbacks", () -> concat(
                get(() -> completeWithFuture(getFallbacks(p, tenant))),
                put(() -> body(b -> completeWithFuture(setFallbacks(p, tenant, b)))))),
            path(PathMatchers.segment("keys").slash(PathMatchers.segment()).slash("rotate"), keyId ->
                post(() -> body(b -> completeWithFuture(rotateKey(p, tenant, keyId, b))))),
            path(PathMatchers.segment("keys").slash(PathMatchers.segment()), keyId ->
                delete(() -> completeWithFuture(revokeKey(p, tenant, keyId)))),
            path("secrets", () -> get(() -> parameterOptional("namespace", ns -> completeWithFuture(listSecrets(p, tenant, ns.orElse(null)))))),
            path(PathMatchers.segment("secrets").slash("rotate"), () -> post(() -> completeWithFuture(rotateSecrets(p, tenant)))),
            path(PathMatchers.segment("secrets").slash(PathMatchers.segment()).slash(PathMatchers.segment()), (ns, name) -> concat(
                put(() -> body(b -> completeWithFuture(putSecret(p, tenant, ns, name, b)))),
                delete(() -> completeWithFuture(deleteSecret(p, tenant, ns, name)))))))),
        path("audit", () -> get(() -> parameterMap(q -> completeWithFuture(audit(p, q))))),
        path(PathMatchers.segment("platform").slash("keys"), () -> post(() -> body(b -> completeWithFuture(issueKey(p, Role.PLATFORM_TENANT, b))))),
        path(PathMatchers.segment("platform").slash("keys").slash(PathMatchers.segment()), keyId ->
            delete(() -> completeWithFuture(revokeKey(p, Role.PLATFORM_TENANT, keyId)))),
        path("fleet", () -> get(() -> completeWithFuture(fleet(p)))),
        pools.route(p),
        host.route(p),
        providers.route(p),
        path("chaos", () -> concat(
            get(() -> complete(chaosStatus(p))),
            post(() -> body(b -> complete(chaosSet(p, b)))),
            delete(() -> complete(chaosClear(p))))),
        path("dlq", () -> get(() -> parameterOptional("tenant", t -> parameterOptional("limit", l -> parameterOptional("cursor", c ->
            completeWithFuture(deadLetters(p, t.orElse(null), l.orElse(null), c.orElse(null)))))))),
        path(PathMatchers.segment("dlq").slash("replay"), () -> post(() -> parameterOptional("tenant", t ->
            parameterOptional("replay_id", r -> completeWithFuture(replayAll(p, t.orElse(null), r.orElse(null))))))),
        path(PathMatchers.segment("dlq").slash(PathMatchers.segment()), jobId -> get(() -> completeWithFuture(deadLetter(p, jobId)))),
        path(PathMatchers.segment("dlq").slash(PathMatchers.segment()).slash("replay"), jobId -> post(() ->
            parameterOptional("replay_id", r -> completeWithFuture(replay(p, jobId, r.orElse(null))))))))));
  }

  /**
   * Authenticates, and audits a failed authentication of a known key (revoked, its tenant gone) on the
   * admin API as a denied operation. Anonymous failures (no key, an unknown key, too many failures) are
   * counted by the authenticator, not audited: a flood of guesses must not fill the ledger.
   */
  private Route admin(Function<Principal, Route> inner) {
    return extractMethod(method -> extractRequest(request -> optionalHeaderValueByName("Authorization", h -> onSuccess(
        auth.authenticate(h, ClientAddress.of(request)).exceptionally(t -> {
          var e = ErrorMapper.toError(t);
          Throwable c = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
          if (c instanceof AuthDenied d && d.knownKey()) {
            audit.record(Role.PLATFORM_TENANT.equals(d.tenantId()) ? "" : d.tenantId(), d.keyId(), "admin." + method.name().toLowerCase(java.util.Locale.ROOT),
                request.getUri().path(), "denied", e.message() + " (" + d.reason() + ")", Map.of());
          }
          throw e.toException();
        }), p -> admitted(method, () -> inner.apply(p))))));
  }

  /**
   * A change (any method but GET) goes ahead only if the audit ledger can take its record now: when it
   * cannot, {@code 503 audit_unavailable} before anything is looked up or done.
   */
  private Route admitted(HttpMethod method, Supplier<Route> inner) {
    if (method.equals(HttpMethods.GET) || method.equals(HttpMethods.HEAD)) return inner.get();
    return onSuccess(gate.admit(), admitted -> inner.get());
  }

  private Route body(Function<byte[], Route> inner) {
    return entity(Unmarshaller.entityToByteString(), bs -> inner.apply(bs.toArray()));
  }

  // Access

  /**
   * Lets the call through if {@code allowed}; else audits the denial and answers {@code 403
   * permission_denied} saying which roles would do.
   */
  private void allow(Principal p, String action, String tenant, String target, boolean allowed, String who) {
    if (allowed) return;
    String reason = p.describe() + " may not " + action + (tenant.isEmpty() ? "" : " on tenant " + tenant) + "; needs " + who;
    // Recorded under the caller's tenant, so its own admins see what its keys were refused.
    audit.record(p.role().platform() ? "" : p.tenantId(), p.keyId(), "access.denied", target, "denied", reason,
        Map.of("attempted", action, "role", p.role().wireName(), "on_tenant", tenant));
    throw new DalangException(ErrorCode.PERMISSION_DENIED, reason);
  }

  private boolean platformAdmin(Principal p) {
    return p.role() == Role.PLATFORM_ADMIN;
  }

  private boolean readsTenant(Principal p, String tenant) {
    return p.role() == Role.PLATFORM_ADMIN || p.role() == Role.OPERATOR || p.ownTenant(tenant);
  }

  /** Who may manage keys of {@code role} on {@code tenant}. */
  private void allowKeyChange(Principal p, String action, String tenant, String keyId, Role role) {
    allowKeyManager(p, action, tenant, keyId);
    if (role != null && role.platform() != tenant.equals(Role.PLATFORM_TENANT)) {
      throw AdminValidation.invalid("role", "'role' " + role.wireName() + " does not belong to " + (role.platform() ? "a tenant" : "the platform"));
    }
  }

  /**
   * Who may manage keys on {@code tenant} at all. Checked before the tenant or the key is looked up, so
   * a caller without the right learns nothing from the answer: the same 403 whether the tenant or the
   * key exists or not.
   */
  private void allowKeyManager(Principal p, String action, String tenant, String keyId) {
    if (tenant.equals(Role.PLATFORM_TENANT)) {
      allow(p, action, tenant, keyId, platformAdmin(p), "platform-admin");
    } else {
      allow(p, action, tenant, keyId, platformAdmin(p) || (p.role() == Role.TENANT_ADMIN && p.ownTenant(tenant)),
          "platform-admin, or tenant-admin of tenant " + tenant);
    }
  }

  // Tenants

  private CompletionStage<HttpResponse> createTenant(Principal p, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.CreateTenant.class);
    allow(p, "tenant.create", "", req.id() == null ? "" : req.id(), platformAdmin(p), "platform-admin");
    String id = AdminValidation.tenantId("id", req.id());
    String name = AdminValidation.displayName("display_name", req.displayName());
    List<String> pools = AdminValidation.ids("pools", req.pools());
    return tenant(id).thenCompose(existing -> {
      if (existing.exists()) throw new DalangException(ErrorCode.CONFLICT, "tenant " + id + " already exists");
      return sharding.entityRefFor(TenantEntity.ENTITY_KEY, id)
          .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.CreateTenant(name, pools, r), timeout);
    }).thenApply(v -> {
      audit.record(id, p.keyId(), "tenant.create", id, "ok", "", Map.of("display_name", name, "pools", String.join(",", pools)));
      return json(StatusCodes.CREATED, tenantBody(v, true));
    });
  }

  private CompletionStage<HttpResponse> getTenant(Principal p, String tenant) {
    allow(p, "tenant.read", tenant, tenant, readsTenant(p, tenant), "platform-admin, operator or a key of tenant " + tenant);
    return existingTenant(tenant).thenApply(v -> json(StatusCodes.OK,
        tenantBody(v, p.role() != Role.TENANT_USER)));
  }

  private CompletionStage<HttpResponse> grantPool(Principal p, String tenant, byte[] body) {
    allow(p, "pool.grant", tenant, tenant, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.GrantPool.class);
    String pool = AdminValidation.id("pool", req.pool());
    return existingTenant(tenant).thenCompose(t -> sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant)
        .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.GrantPool(pool, r), timeout)).thenApply(v -> {
          auth.invalidateAll(); // the tenant's keys now reach the pool's models
          audit.record(tenant, p.keyId(), "pool.grant", pool, "ok", "", Map.of());
          return json(StatusCodes.OK, tenantBody(v, true));
        });
  }

  // Quotas

  private CompletionStage<HttpResponse> setQuotas(Principal p, String tenant, byte[] body) {
    allow(p, "quota.set", tenant, tenant, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.SetQuotas.class);
    var q = new TenantEntity.Quotas(
        AdminValidation.range("requests_per_minute", req.requestsPerMinute(), AdminValidation.MAX_REQUESTS_PER_MINUTE),
        AdminValidation.range("tokens_per_day", req.tokensPerDay(), AdminValidation.MAX_TOKENS_PER_DAY),
        (int) AdminValidation.range("concurrent_jobs", req.concurrentJobs() == null ? null : req.concurrentJobs().longValue(), AdminValidation.MAX_JOBS),
        (int) AdminValidation.range("queued_jobs", req.queuedJobs() == null ? null : req.queuedJobs().longValue(), AdminValidation.MAX_JOBS),
        new JobLimits(AdminValidation.optionalRange("pending_jobs", req.pendingJobs(), AdminValidation.MAX_JOBS),
            AdminValidation.optionalRange("pending_job_bytes", req.pendingJobBytes(), AdminValidation.MAX_JOB_BYTES),
            AdminValidation.optionalRange("job_submissions_per_minute", req.jobSubmissionsPerMinute(), AdminValidation.MAX_REQUESTS_PER_MINUTE)));
    return existingTenant(tenant).thenCompose(t -> sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant)
        .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.SetQuotas(q, r), timeout)).thenApply(v -> {
          auth.invalidateAll(); // principals carry the quotas
          audit.record(tenant, p.keyId(), "quota.set", tenant, "ok", "", Map.of("requests_per_minute", "" + q.requestsPerMinute(),
              "tokens_per_day", "" + q.tokensPerDay(), "concurrent_jobs", "" + q.concurrentJobs(), "queued_jobs", "" + q.queuedJobs(),
              "jobs", "" + q.jobs()));
          return json(StatusCodes.OK, quotasBody(v.quotas()));
        });
  }

  private CompletionStage<HttpResponse> getQuotas(Principal p, String tenant) {
    allow(p, "quota.read", tenant, tenant, readsTenant(p, tenant), "platform-admin, operator or a key of tenant " + tenant);
    return existingTenant(tenant).thenCompose(v -> usage.apply(tenant).thenApply(u -> {
      var body = quotasBody(v.quotas());
      body.put("usage", u);
      return json(StatusCodes.OK, body);
    }));
  }

  // Fallbacks: pools of the tenant, then providers by name (docs/security.md, "Outbound connections").

  private CompletionStage<HttpResponse> setFallbacks(Principal p, String tenant, byte[] body) {
    allow(p, "fallback.set", tenant, tenant, platformAdmin(p) || (p.role() == Role.TENANT_ADMIN && p.ownTenant(tenant)),
        "platform-admin, or tenant-admin of tenant " + tenant);
    var targets = FallbackTargets.parse(Json.parseStrict(body, AdminRequests.SetFallbacks.class));
    return existingTenant(tenant).thenCompose(t -> {
      var foreign = targets.stream().filter(f -> f.isPool() && !t.pools().contains(f.pool())).map(f -> f.pool()).toList();
      if (!foreign.isEmpty()) throw AdminValidation.invalid("targets", "fallback pools " + foreign + " are not pools of tenant " + tenant);
      return FallbackTargets.checkProviders(targets, providers.lookup()).thenCompose(ok -> sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant)
          .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.SetFallbacks(targets, r), timeout));
    }).thenApply(v -> {
      auth.invalidateAll(); // principals carry the fallbacks
      audit.record(tenant, p.keyId(), "fallback.set", tenant, "ok", "",
          Map.of("targets", String.join(",", v.fallbacks().stream().map(f -> f.label()).toList())));
      return json(StatusCodes.OK, FallbackTargets.body(tenant, v.fallbacks()));
    });
  }

  private CompletionStage<HttpResponse> getFallbacks(Principal p, String tenant) {
    allow(p, "fallback.read", tenant, tenant, readsTenant(p, tenant), "platform-admin, operator or a key of tenant " + tenant);
    return existingTenant(tenant).thenApply(v -> json(StatusCodes.OK, FallbackTargets.body(tenant, v.fallbacks())));
  }

  // Keys

  private CompletionStage<HttpResponse> issueKey(Principal p, String tenant, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.IssueKey.class);
    boolean platform = tenant.equals(Role.PLATFORM_TENANT);
    Role role = Role.parse(req.role()).orElse(null);
    allowKeyChange(p, "key.issue", tenant, req.keyId() == null ? "" : req.keyId(), role);
    String keyId = AdminValidation.id("key_id", req.keyId());
    role = AdminValidation.role("role", req.role(), platform ? PLATFORM_ROLES : TENANT_ROLES);
    if (p.role() == Role.TENANT_ADMIN && !TENANT_ROLES.contains(role)) throw AdminValidation.invalid("role", "a tenant-admin issues tenant roles only");
    return issue(p, tenant, keyId, role, "key.issue", Map.of());
  }

  private CompletionStage<HttpResponse> issue(Principal p, String tenant, String keyId, Role role, String action, Map<String, String> more) {
    String key = KeyService.newKey();
    Role r = role;
    return existingTenant(tenant).thenCompose(t -> {
      if (t.key(keyId).isPresent()) throw new DalangException(ErrorCode.CONFLICT, "tenant " + tenant + " already has a key with id " + keyId);
      return keys.issue(tenant, keyId, r, key);
    }).thenApply(v -> {
      var details = new LinkedHashMap<String, String>(more);
      details.put("role", r.wireName());
      audit.record(tenant, p.keyId(), action, keyId, "ok", "", details);
      var out = new LinkedHashMap<String, Object>();
      out.put("tenant", tenant);
      out.put("key_id", keyId);
      out.put("role", r.wireName());
      out.put("key", key);
      out.put("note", "the key is shown only now; Dalang keeps only its SHA-256");
      return json(StatusCodes.CREATED, out);
    });
  }

  private CompletionStage<HttpResponse> rotateKey(Principal p, String tenant, String keyId, byte[] body) {
    allowKeyManager(p, "key.rotate", tenant, keyId);
    var req = body.length == 0 ? new AdminRequests.RotateKey(null) : Json.parseStrict(body, AdminRequests.RotateKey.class);
    return existingTenant(tenant).thenCompose(t -> {
      var old = t.key(keyId).orElseThrow(() -> new DalangException(ErrorCode.NOT_FOUND, "tenant " + tenant + " has no key " + keyId));
      Role role = Role.ofStored(old.role());
      allowKeyChange(p, "key.rotate", tenant, keyId, role);
      if (!old.active()) throw new DalangException(ErrorCode.CONFLICT, "key " + keyId + " is revoked; issue a new one instead");
      String newId = req.keyId() != null ? AdminValidation.id("key_id", req.keyId()) : nextId(t, keyId);
      return issue(p, tenant, newId, role, "key.rotate", Map.of("replaces", keyId))
          .thenCompose(resp -> keys.revoke(tenant, keyId).thenApply(v -> {
            auth.invalidateAll();
            audit.record(tenant, p.keyId(), "key.revoke", keyId, "ok", "", Map.of("replaced_by", newId));
            return resp;
          }));
    });
  }

  private static String nextId(TenantEntity.TenantView t, String keyId) {
    String base = keyId.replaceFirst("-r[0-9]+$", "");
    for (int n = 2; ; n++) {
      String candidate = base + "-r" + n;
      if (candidate.length() <= 63 && t.key(candidate).isEmpty()) return candidate;
      if (candidate.length() > 63) throw AdminValidation.invalid("key_id", "name the rotated key: 'key_id' is required for this key");
    }
  }

  private CompletionStage<HttpResponse> revokeKey(Principal p, String tenant, String keyId) {
    allowKeyManager(p, "key.revoke", tenant, keyId);
    return existingTenant(tenant).thenCompose(t -> {
      var info = t.key(keyId).orElse(null);
      allowKeyChange(p, "key.revoke", tenant, keyId, info == null ? null : Role.ofStored(info.role()));
      if (info == null) throw new DalangException(ErrorCode.NOT_FOUND, "tenant " + tenant + " has no key " + keyId);
      return keys.revoke(tenant, keyId);
    }).thenApply(v -> {
      auth.invalidateAll(); // on this node at once; other nodes within the auth cache TTL
      audit.record(tenant, p.keyId(), "key.revoke", keyId, "ok", "", Map.of());
      return json(StatusCodes.OK, keyBody(v.key(keyId).orElseThrow()));
    });
  }

  // Secrets: values go in, never out (internal consumers read them through SecretsClient).

  private String actor(Principal p) {
    return "key:" + p.keyId();
  }

  private void allowSecrets(Principal p, String action, String tenant, String target, boolean write) {
    boolean reader = p.role() == Role.OPERATOR && !write;
    allow(p, action, tenant, target, platformAdmin(p) || reader || (p.role() == Role.TENANT_ADMIN && p.ownTenant(tenant)),
        write ? "platform-admin, or tenant-admin of tenant " + tenant : "platform-admin, operator, or tenant-admin of tenant " + tenant);
  }

  private CompletionStage<HttpResponse> putSecret(Principal p, String tenant, String ns, String name, byte[] body) {
    allowSecrets(p, "secret.write", tenant, ns + "/" + name, true);
    var req = Json.parseStrict(body, AdminRequests.PutSecret.class);
    if (req.value() == null || req.value().isEmpty()) throw AdminValidation.invalid("value", "'value' is required and must not be empty");
    if (req.value().length() > 65_536) throw AdminValidation.invalid("value", "'value' must be at most 65536 characters");
    var value = SecretValue.of(req.value());
    return existingTenant(tenant).thenCompose(t -> secrets.put(tenant, ns, name, value, actor(p))).thenApply(v -> {
      value.destroy();
      var m = new LinkedHashMap<String, Object>();
      m.put("namespace", ns);
      m.put("name", name);
      m.put("version", v.version());
      m.put("key_id", v.keyId());
      m.put("created_at", v.createdAt().toString());
      return json(StatusCodes.OK, m);
    });
  }

  private CompletionStage<HttpResponse> listSecrets(Principal p, String tenant, String ns) {
    allowSecrets(p, "secret.list", tenant, ns == null ? "" : ns, false);
    return existingTenant(tenant).thenCompose(t -> secrets.list(tenant, ns, actor(p))).thenApply(list -> json(StatusCodes.OK, Map.of(
        "secrets", list.stream().map(i -> Map.of("namespace", i.namespace(), "name", i.name(), "versions",
            i.versions().stream().map(v -> Map.of("version", v.version(), "key_id", v.keyId(), "created_at", v.createdAt().toString())).toList()))
            .toList())));
  }

  private CompletionStage<HttpResponse> deleteSecret(Principal p, String tenant, String ns, String name) {
    allowSecrets(p, "secret.delete", tenant, ns + "/" + name, true);
    return existingTenant(tenant).thenCompose(t -> secrets.delete(tenant, ns, name, actor(p)))
        .thenApply(n -> json(StatusCodes.OK, Map.of("namespace", ns, "name", name, "versions_deleted", n)));
  }

  private CompletionStage<HttpResponse> rotateSecrets(Principal p, String tenant) {
    allow(p, "secret.rotate", tenant, tenant, platformAdmin(p), "platform-admin");
    return existingTenant(tenant).thenCompose(t -> secrets.rotateMasterKey(tenant, actor(p))).thenApply(r -> {
      if (r.error() != null) throw r.error().toException();
      return json(StatusCodes.OK, Map.of("rewrapped", r.rewrapped(), "already_current", r.alreadyCurrent(), "key_id", r.keyId()));
    });
  }

  // Audit

  /**
   * {@code GET /admin/v1/audit?tenant&actor&action&outcome&since&until&after&limit&format}: platform
   * roles see all, a tenant-admin its own tenant's events. {@code format=json} (default) pages through
   * the ledger writer (at most 1000 per page, next page {@code after=<last seq>}); {@code jsonl} and
   * {@code csv} export the selection with its hashes and roots ({@code dalang audit verify --file}).
   */
  private CompletionStage<HttpResponse> audit(Principal p, Map<String, String> q) {
    for (String k : q.keySet()) {
      if (!List.of("tenant", "actor", "action", "outcome", "since", "until", "after", "limit", "format").contains(k)) {
        throw AdminValidation.invalid(k, "unknown query parameter '" + k + "'");
      }
    }
    var filter = AuditFilter.ALL.tenant(q.get("tenant")).actor(q.get("actor")).action(q.get("action"))
        .since(instant("since", q.get("since"))).until(instant("until", q.get("until")));
    if (q.containsKey("outcome")) {
      filter = filter.outcome(java.util.Arrays.stream(AuditOutcome.values()).filter(o -> o.name().equalsIgnoreCase(q.get("outcome")))
          .findFirst().orElseThrow(() -> AdminValidation.invalid("outcome", "'outcome' must be ok, denied or failed")));
    }
    if (p.role() == Role.TENANT_ADMIN) {
      var scoped = filter.forTenantAdmin(p.tenantId());
      allow(p, "audit.read", q.getOrDefault("tenant", ""), "audit", scoped.isPresent(), "platform-admin, operator, or tenant-admin of that tenant");
      filter = scoped.get();
    } else {
      allow(p, "audit.read", q.getOrDefault("tenant", ""), "audit", p.role() == Role.PLATFORM_ADMIN || p.role() == Role.OPERATOR,
          "platform-admin, operator or tenant-admin");
    }
    String format = q.getOrDefault("format", "json");
    if (format.equals("jsonl") || format.equals("csv")) {
      var f = filter;
      var fmt = format.equals("csv") ? AuditExport.Format.CSV : AuditExport.Format.JSONL;
      var type = fmt == AuditExport.Format.CSV ? ContentTypes.TEXT_CSV_UTF8 : ContentTypes.TEXT_PLAIN_UTF8;
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(AuditExportStream.entity(type,
          system.dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking()),
          out -> AuditExport.write(auditStore, f, auditBlockSize, fmt, out, System.currentTimeMillis()))));
    }
    if (!format.equals("json")) throw AdminValidation.invalid("format", "'format' must be json, jsonl or csv");
    long after = (long) AdminValidation.range("after", parseLong("after", q.getOrDefault("after", "0")), Long.MAX_VALUE);
    int limit = (int) AdminValidation.range("limit", parseLong("limit", q.getOrDefault("limit", "100")), AuditActor.MAX_PAGE);
    var page = filter.page(after, limit == 0 ? AuditActor.MAX_PAGE : limit);
    return AskPattern.<AuditActor.Command, org.apache.pekko.pattern.StatusReply<AuditActor.Events>>ask(ledger,
        to -> new AuditActor.Query(page, to), timeout, system.scheduler()).thenApply(r -> {
          if (r.isError()) throw new DalangException(ErrorCode.ENGINE_UNAVAILABLE, "the audit ledger cannot be read now: " + r.getError().getMessage());
          var events = r.getValue().events();
          var body = new LinkedHashMap<String, Object>();
          body.put("events", events.stream().map(AdminApi::eventBody).toList());
          body.put("next_after", events.isEmpty() ? null : events.get(events.size() - 1).seq());
          return json(StatusCodes.OK, body);
        });
  }

  private static Map<String, Object> eventBody(io.dalang.actors.audit.AuditEvent e) {
    var m = new LinkedHashMap<String, Object>();
    m.put("seq", e.seq());
    m.put("time", java.time.Instant.ofEpochMilli(e.timeEpochMs()).toString());
    m.put("tenant", e.tenant());
    m.put("actor", e.actor());
    m.put("action", e.action());
    m.put("target", e.target());
    m.put("outcome", e.outcome());
    m.put("reason", e.reason());
    m.put("details", e.details());
    m.put("prev_hash", e.prevHash());
    m.put("hash", e.hash());
    return m;
  }

  private static Long instant(String field, String v) {
    if (v == null) return null;
    try {
      return java.time.Instant.parse(v).toEpochMilli();
    } catch (java.time.format.DateTimeParseException e) {
      throw AdminValidation.invalid(field, "'" + field + "' must be an ISO-8601 instant like 2026-11-23T00:00:00Z");
    }
  }

  private static Long parseLong(String field, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw AdminValidation.invalid(field, "'" + field + "' must be a whole number");
    }
  }

  // Fleet

  private CompletionStage<HttpResponse> fleet(Principal p) {
    allow(p, "fleet.read", "", "fleet", p.role() == Role.PLATFORM_ADMIN || p.role() == Role.OPERATOR, "platform-admin or operator");
    return AskPattern.<PlacementActor.Command, PlacementActor.Fleet>ask(placement, PlacementActor.GetFleet::new, timeout, system.scheduler())
        .thenApply(f -> {
          var slots = new ArrayList<Map<String, Object>>();
          for (var s : f.slots()) {
            var m = new LinkedHashMap<String, Object>();
            m.put("slot_id", s.slotId());
            m.put("pool", s.poolId());
            m.put("model", s.modelId());
            m.put("node", s.nodeId());
            m.put("device", s.deviceId());
            m.put("device_kind", s.deviceKind());
            m.put("gpu_layers", s.gpuLayers());
            m.put("state", s.state());
            m.put("engine", s.engineKind());
            m.put("slots_total", s.slotsTotal());
            m.put("slots_free", s.slotsFree());
            m.put("queued", s.queued());
            m.put("restarts", s.restarts());
            slots.add(m);
          }
          return json(StatusCodes.OK, Map.of("slots", slots));
        });
  }

  // Chaos drills: the fault-injection plan of this node's engines (docs/operations.md, "Chaos drills").

  private HttpResponse chaosStatus(Principal p) {
    allow(p, "chaos.read", "", "chaos", p.role() == Role.PLATFORM_ADMIN || p.role() == Role.OPERATOR, "platform-admin or operator");
    return json(StatusCodes.OK, chaos.describe());
  }

  private HttpResponse chaosSet(Principal p, byte[] body) {
    allow(p, "chaos.set", "", "chaos", platformAdmin(p), "platform-admin");
    @SuppressWarnings("unchecked")
    Map<String, Object> definition = Json.parseStrict(body, Map.class);
    var plan = ChaosPlan.parse(definition);
    chaos.apply(plan, "admin API, key " + p.keyId());
    audit.record("", p.keyId(), "chaos.set", "chaos", "ok", "", Map.of("seed", Long.toString(plan.seed()),
        "faults", Json.MAPPER.valueToTree(plan.faults().stream().map(io.dalang.engine.chaos.Fault::describe).toList()).toString()));
    return json(StatusCodes.OK, chaos.describe());
  }

  private HttpResponse chaosClear(Principal p) {
    allow(p, "chaos.clear", "", "chaos", platformAdmin(p), "platform-admin");
    chaos.clear("admin API, key " + p.keyId());
    audit.record("", p.keyId(), "chaos.clear", "chaos", "ok", "", Map.of());
    return json(StatusCodes.OK, chaos.describe());
  }

  // Dead-letter queue: platform-admin and operator for every tenant, tenant-admin for its own.

  private boolean managesJobs(Principal p, String tenant) {
    return p.role() == Role.PLATFORM_ADMIN || p.role() == Role.OPERATOR || (p.role() == Role.TENANT_ADMIN && p.ownTenant(tenant));
  }

  private static final String JOB_ROLES = "platform-admin, operator, or tenant-admin of the job's tenant";

  /** A page of the queue: {@code limit} 1 to 500 (default 100), {@code cursor} the previous page's {@code next_cursor}. */
  private CompletionStage<HttpResponse> deadLetters(Principal p, String tenant, String limit, String cursor) {
    String scope = tenant != null ? tenant : p.role() == Role.TENANT_ADMIN ? p.tenantId() : null;
    allow(p, "dlq.read", scope == null ? "" : scope, "dlq", scope == null ? p.role().platform() : managesJobs(p, scope), JOB_ROLES);
    int n = (int) number("limit", limit, 100, 1, JobService.MAX_DLQ_PAGE);
    long after = number("cursor", cursor, 0, 0, Long.MAX_VALUE);
    return jobs.deadLetterPage(scope, after, n).thenApply(page -> {
      var body = new LinkedHashMap<String, Object>();
      body.put("jobs", page.jobs().stream().map(v -> io.dalang.runtime.http.JobJson.full(v, true)).toList());
      body.put("next_cursor", page.next() == null ? null : page.next().toString());
      return json(StatusCodes.OK, body);
    });
  }

  private static long number(String field, String value, long dflt, long min, long max) {
    if (value == null) return dflt;
    try {
      long v = Long.parseLong(value);
      if (v >= min && v <= max) return v;
    } catch (NumberFormatException e) {
      // answered below
    }
    throw AdminValidation.invalid(field, "'" + field + "' must be a whole number from " + min + " to " + max);
  }

  private CompletionStage<HttpResponse> deadLetter(Principal p, String jobId) {
    return jobs.view(jobId).thenApply(v -> {
      allow(p, "dlq.read", v.job().tenantId(), jobId, managesJobs(p, v.job().tenantId()), JOB_ROLES);
      return json(StatusCodes.OK, io.dalang.runtime.http.JobJson.full(v, true));
    });
  }

  /** Replays one job; {@code replayId} (default: a new one) makes a repeated request a no-op. Audited either way. */
  private CompletionStage<HttpResponse> replay(Principal p, String jobId, String replayId) {
    String id = replayId(replayId);
    return jobs.view(jobId).thenCompose(v -> {
      allow(p, "job.replay", v.job().tenantId(), jobId, managesJobs(p, v.job().tenantId()), JOB_ROLES);
      return replayed(p, v, id).thenApply(r -> {
        if (io.dalang.actors.jobs.JobView.DEAD_LETTERED.equals(v.state()) && !v.job().request().hasBody()) {
          throw new DalangException(ErrorCode.GONE, (String) r.get("note"));
        }
        return r;
      });
    }).thenApply(r -> json(StatusCodes.OK, r));
  }

  /** Replays every dead-lettered job of {@code tenant}, one audit event per job. */
  private CompletionStage<HttpResponse> replayAll(Principal p, String tenant, String replayId) {
    if (tenant == null || tenant.isBlank()) throw AdminValidation.invalid("tenant", "'tenant' is required: replay all dead-lettered jobs of which tenant?");
    allow(p, "job.replay", tenant, "dlq", managesJobs(p, tenant), JOB_ROLES);
    String id = replayId(replayId);
    return jobs.deadLettered(tenant).thenCompose(list -> {
      CompletableFuture<List<Map<String, Object>>> all = CompletableFuture.completedFuture(new ArrayList<>());
      for (var v : list) all = all.thenCompose(acc -> replayed(p, v, id).thenApply(r -> {
        acc.add(r);
        return acc;
      }));
      return all;
    }).thenApply(results -> json(StatusCodes.OK, Map.of("tenant", tenant, "replay_id", id, "jobs", results)));
  }

  private CompletionStage<Map<String, Object>> replayed(Principal p, io.dalang.actors.jobs.JobView v, String replayId) {
    return jobs.replay(v.jobId(), replayId, p.keyId()).thenApply(r -> {
      audit.record(v.job().tenantId(), p.keyId(), "job.replay", v.jobId(), "ok", "", Map.of("replay_id", replayId,
          "result", r.replayed() ? "replayed" : "no-op", "state", r.job().state(), "attempts", Integer.toString(r.job().attempts().size())));
      var m = new LinkedHashMap<String, Object>();
      m.put("id", v.jobId());
      m.put("replayed", r.replayed());
      m.put("note", r.note());
      m.put("state", r.job().state());
      m.put("replay_id", replayId);
      return m;
    });
  }

  private static String replayId(String given) {
    if (given == null) return "replay_" + java.util.UUID.randomUUID().toString().replace("-", "");
    return AdminValidation.id("replay_id", given);
  }

  // Helpers

  private CompletionStage<TenantEntity.TenantView> tenant(String id) {
    return sharding.entityRefFor(TenantEntity.ENTITY_KEY, id).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, timeout);
  }

  private CompletionStage<TenantEntity.TenantView> existingTenant(String id) {
    if (!AdminValidation.ID.matcher(id).matches()) {
      return CompletableFuture.failedFuture(new DalangException(ErrorCode.NOT_FOUND, "no tenant " + id));
    }
    return tenant(id).thenApply(v -> {
      if (!v.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "no tenant " + id);
      return v;
    });
  }

  private static Map<String, Object> tenantBody(TenantEntity.TenantView v, boolean withKeys) {
    var m = new LinkedHashMap<String, Object>();
    m.put("id", v.tenantId());
    m.put("display_name", v.displayName());
    m.put("pools", v.pools());
    m.put("created_at", v.createdAt() == null ? null : v.createdAt().toString());
    if (withKeys) m.put("keys", v.keys().stream().map(AdminApi::keyBody).toList());
    m.put("quotas", quotasBody(v.quotas()));
    return m;
  }

  private static Map<String, Object> keyBody(TenantEntity.KeyInfo k) {
    var m = new LinkedHashMap<String, Object>();
    m.put("key_id", k.keyId());
    m.put("role", Role.ofStored(k.role()).wireName());
    m.put("active", k.active());
    m.put("issued_at", k.issuedAt() == null ? null : k.issuedAt().toString());
    m.put("revoked_at", k.revokedAt() == null ? null : k.revokedAt().toString());
    return m;
  }

  private static Map<String, Object> quotasBody(TenantEntity.Quotas q) {
    var m = new LinkedHashMap<String, Object>();
    m.put("requests_per_minute", q.requestsPerMinute());
    m.put("tokens_per_day", q.tokensPerDay());
    m.put("concurrent_jobs", q.concurrentJobs());
    m.put("queued_jobs", q.queuedJobs());
    // Job limits the tenant overrides; null: the node's dalang.jobs default holds.
    JobLimits jobs = q.jobs() == null ? JobLimits.DEFAULTS : q.jobs();
    m.put("pending_jobs", jobs.pendingJobs());
    m.put("pending_job_bytes", jobs.pendingBytes());
    m.put("job_submissions_per_minute", jobs.submissionsPerMinute());
    return m;
  }

  static HttpResponse json(StatusCode status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.bytes(body));
  }
}
