package io.dalang.runtime.auth;

import io.dalang.actors.apikey.ApiKeyEntity;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.Digests;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Resolves {@code Authorization: Bearer <key>} to a {@link Principal}, for the HTTP and gRPC edges
 * alike. The key is hashed at once and only the hash is used (the key is never logged or stored);
 * the hash names the {@link ApiKeyEntity} to ask, the key's tenant then names its pools. Results are
 * cached for {@code dalang.http.auth-cache-ttl}, so a revoked key stops working within that time.
 *
 * <p>Failures cost the caller, not the server (docs/security.md, "Floods"): a client address that failed
 * too often is refused with {@code 429 too_many_auth_failures} before anything is looked up; a key hash
 * found unknown is remembered ({@code dalang.http.auth-unknown-*}), so asking again starts no entity and
 * reads no journal; every failure counts in {@code dalang_auth_denied_total{reason}}, and none is audited
 * here (the edges audit denials of known keys, {@link AuthDenied#knownKey()}).
 */
public final class Authenticator {
  private static final int MAX_CACHED = 100_000;

  private record Cached(Principal principal, long expiresAtNanos) {}

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final long ttlNanos;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();
  private final UnknownKeys unknown;
  private final FailureLimiter failures;
  private final MeterRegistry metrics;

  public Authenticator(ActorSystem<?> system, Duration askTimeout, AuthSettings settings, MeterRegistry metrics) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.ttlNanos = settings.cacheTtl().toNanos();
    this.unknown = new UnknownKeys(settings.unknownKeys(), settings.unknownTtl().toNanos(), System::nanoTime);
    this.failures = new FailureLimiter(settings.failureBurst(), settings.failuresPerMinute(), settings.trackedAddresses(), System::nanoTime);
    this.metrics = metrics;
  }

  /**
   * @param client the caller's network address (never a header it sent): failed authentications are
   *     limited per address
   */
  public CompletionStage<Principal> authenticate(Optional<String> authorization, String client) {
    String key = bearer(authorization);
    String hash = key == null ? null : Digests.sha256(key);
    Cached c = hash == null ? null : cache.get(hash);
    // A key known good costs nothing to accept, so an address over its failure limit still uses it.
    if (c != null && c.expiresAtNanos() - System.nanoTime() > 0) return CompletableFuture.completedFuture(c.principal());
    long waitNanos = failures.waitNanos(client);
    if (waitNanos > 0) return denied(AuthDenied.rateLimited(Math.max(1, (waitNanos + 999_999_999L) / 1_000_000_000L)));
    if (key == null) return failed(client, AuthDenied.missing());
    AuthDenied known = unknown.get(hash);
    if (known != null) return failed(client, known);
    return resolve(hash).handle((p, t) -> {
      Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
      if (cause instanceof AuthDenied d) {
        unknown.put(hash, d);
        failed(client, d);
        throw d;
      }
      if (t != null) throw t instanceof java.util.concurrent.CompletionException ce ? ce : new java.util.concurrent.CompletionException(t);
      if (cache.size() >= MAX_CACHED) cache.clear();
      cache.put(hash, new Cached(p, System.nanoTime() + ttlNanos));
      return p;
    });
  }

  /** Forgets cached keys, e.g. after a revocation on this node. */
  public void invalidateAll() {
    cache.clear();
  }

  /** Forgets that the key with this hash was unknown: it was just issued, and must work at once. */
  public void issued(String keyHash) {
    unknown.remove(keyHash);
  }

  private <T> CompletionStage<T> failed(String client, AuthDenied d) {
    failures.failed(client);
    return denied(d);
  }

  private <T> CompletionStage<T> denied(AuthDenied d) {
    metrics.counter("dalang_auth_denied", "reason", d.reason()).increment();
    return CompletableFuture.failedFuture(d);
  }

  static String bearer(Optional<String> header) {
    if (header.isEmpty()) return null;
    String h = header.get().strip();
    if (h.length() < 8 || !h.regionMatches(true, 0, "Bearer ", 0, 7)) return null;
    String key = h.substring(7).strip();
    return key.isEmpty() ? null : key;
  }

  private CompletionStage<Principal> resolve(String hash) {
    var keyRef = sharding.entityRefFor(ApiKeyEntity.ENTITY_KEY, hash);
    return keyRef.<ApiKeyEntity.ApiKeyView>ask(ApiKeyEntity.ResolveKey::new, askTimeout).thenCompose(view -> {
      if (view.keyId() == null) throw AuthDenied.unknown();
      if (!view.active()) throw AuthDenied.known(AuthDenied.REVOKED, view.tenantId(), view.keyId());
      return principal(view.tenantId(), view.keyId(), Role.ofStored(view.role()),
          () -> AuthDenied.known(AuthDenied.TENANT_GONE, view.tenantId(), view.keyId()));
    });
  }

  /**
   * The principal of key {@code keyId} of {@code tenantId} as the tenant is now (pools, models, quotas),
   * without the key: for work a key started earlier and that runs on without it (durable jobs).
   */
  public CompletionStage<Principal> principalOf(String tenantId, String keyId, Role role) {
    return principal(tenantId, keyId, role, () -> new DalangException(ErrorCode.PERMISSION_DENIED, "tenant " + tenantId + " no longer exists"));
  }

  private CompletionStage<Principal> principal(String tenantId, String keyId, Role role, Supplier<DalangException> missing) {
    return sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenantId).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, askTimeout)
        .thenCompose(t -> {
          if (!t.exists()) throw missing.get();
          return poolModels(t.pools()).thenApply(served -> {
            var models = new HashMap<String, String>();
            for (String pool : t.pools()) if (served.containsKey(pool)) models.putIfAbsent(served.get(pool), pool);
            // URL targets stored before providers existed are never used (FallbackTarget#isLegacyUrl).
            var fallbacks = t.fallbacks().stream().filter(f -> f.isPool() ? served.containsKey(f.pool()) : !f.isLegacyUrl())
                .map(f -> f.isPool() ? f.withModel(served.get(f.pool())) : f).toList();
            return new Principal(t.tenantId(), keyId, role, Set.copyOf(t.pools()), Map.copyOf(models), t.quotas(), fallbacks);
          });
        });
  }

  /** The model each existing pool of {@code pools} serves ({@code pool id → model id}). */
  private CompletionStage<Map<String, String>> poolModels(List<String> pools) {
    CompletableFuture<Map<String, String>> acc = CompletableFuture.completedFuture(new HashMap<>());
    for (String pool : pools) {
      var ref = sharding.entityRefFor(PoolEntity.ENTITY_KEY, pool);
      var view = ref.<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, askTimeout).toCompletableFuture();
      acc = acc.thenCombine(view, (m, v) -> {
        if (v.exists()) m.put(v.poolId(), v.spec().modelId());
        return m;
      });
    }
    return acc;
  }
}
