package io.dalang.runtime.admin;

import io.dalang.actors.apikey.ApiKeyEntity;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.Digests;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Issues and revokes API keys: a key is {@code dlg-} and 32 random base64url characters, shown once;
 * Dalang keeps only its SHA-256, in the {@link ApiKeyEntity} the hash names (which authenticates it)
 * and in the tenant's key list (which names it by id and role).
 */
public final class KeyService {
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ClusterSharding sharding;
  private final Duration timeout;
  private final Consumer<String> issued;

  public KeyService(ActorSystem<?> system, Duration timeout) {
    this(system, timeout, hash -> {});
  }

  /** @param issued told the hash of every key this issues, before the key is handed out (the negative auth cache forgets it) */
  public KeyService(ActorSystem<?> system, Duration timeout, Consumer<String> issued) {
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.issued = issued;
  }

  /** A fresh key: {@code dlg-} and 24 random bytes, base64url. */
  public static String newKey() {
    byte[] b = new byte[24];
    RANDOM.nextBytes(b);
    return "dlg-" + Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  /** Issues {@code key} to {@code tenant} as {@code keyId} with {@code role}; replies the tenant as it is then. */
  public CompletionStage<TenantEntity.TenantView> issue(String tenant, String keyId, Role role, String key) {
    String hash = Digests.sha256(key);
    return sharding.entityRefFor(ApiKeyEntity.ENTITY_KEY, hash)
        .<ApiKeyEntity.ApiKeyView>askWithStatus(r -> new ApiKeyEntity.IssueKey(tenant, keyId, role.wireName(), r), timeout)
        .thenCompose(k -> sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant)
            .<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.RegisterKey(keyId, hash, role.wireName(), r), timeout))
        .thenApply(t -> {
          issued.accept(hash);
          return t;
        });
  }

  /** Revokes the tenant's key {@code keyId} for good (idempotent); replies the tenant as it is then. */
  public CompletionStage<TenantEntity.TenantView> revoke(String tenant, String keyId) {
    var tenantRef = sharding.entityRefFor(TenantEntity.ENTITY_KEY, tenant);
    return tenantRef.<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, timeout).thenCompose(t -> {
      var info = t.key(keyId).orElseThrow(() -> new DalangException(ErrorCode.NOT_FOUND, "tenant " + tenant + " has no key " + keyId));
      return sharding.entityRefFor(ApiKeyEntity.ENTITY_KEY, info.keyHash())
          .<ApiKeyEntity.ApiKeyView>askWithStatus(ApiKeyEntity.RevokeKey::new, timeout)
          .thenCompose(k -> tenantRef.<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.MarkKeyRevoked(keyId, r), timeout));
    });
  }
}
