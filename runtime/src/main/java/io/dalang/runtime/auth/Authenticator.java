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
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Resolves {@code Authorization: Bearer <key>} to a {@link Principal}, for the HTTP and gRPC edges
 * alike. The key is hashed at once and only the hash is used (the key is never logged or stored);
 * the hash names the {@link ApiKeyEntity} to ask, the key's tenant then names its pools. Results are
 * cached for {@code dalang.http.auth-cache-ttl}, so a revoked key stops working within that time.
 */
public final class Authenticator {
  private static final int MAX_CACHED = 100_000;

  private record Cached(Principal principal, long expiresAtNanos) {}

  private final ClusterSharding sharding;
  private final Duration askTimeout;
  private final long ttlNanos;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  public Authenticator(ActorSystem<?> system, Duration askTimeout, Duration cacheTtl) {
    this.sharding = ClusterSharding.get(system);
    this.askTimeout = askTimeout;
    this.ttlNanos = cacheTtl.toNanos();
  }

  public CompletionStage<Principal> authenticate(Optional<String> authorization) {
    String key = bearer(authorization);
    if (key == null) {
      return CompletableFuture.failedFuture(new DalangException(ErrorCode.AUTHENTICATION_FAILED,
          "missing API key: send 'Authorization: Bearer <key>'"));
    }
    String hash = Digests.sha256(key);
    Cached c = cache.get(hash);
    long now = System.nanoTime();
    if (c != null && c.expiresAtNanos() - now > 0) return CompletableFuture.completedFuture(c.principal());
    return resolve(hash).thenApply(p -> {
      if (cache.size() >= MAX_CACHED) cache.clear();
      cache.put(hash, new Cached(p, System.nanoTime() + ttlNanos));
      return p;
    });
  }

  /** Forgets cached keys, e.g. after a revocation on this node. */
  public void invalidateAll() {
    cache.clear();
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
      if (!view.active()) throw new DalangException(ErrorCode.AUTHENTICATION_FAILED, "invalid API key");
      return principal(view.tenantId(), view.keyId(), Role.ofStored(view.role()), ErrorCode.AUTHENTICATION_FAILED, "invalid API key");
    });
  }

  /**
   * The principal of key {@code keyId} of {@code tenantId} as the tenant is now (pools, models, quotas),
   * without the key: for work a key started earlier and that runs on without it (durable jobs).
   */
  public CompletionStage<Principal> principalOf(String tenantId, String keyId, Role role) {
    return principal(tenantId, keyId, role, ErrorCode.PERMISSION_DENIED, "tenant " + tenantId + " no longer exists");
  }

  private CompletionStage<Principal> principal(String tenantId, String keyId, Role role, ErrorCode missing, String message) {
    return sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenantId).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, askTimeout)
        .thenCompose(t -> {
          if (!t.exists()) throw new DalangException(missing, message);
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
