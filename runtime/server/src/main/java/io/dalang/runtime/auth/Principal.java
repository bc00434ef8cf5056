package io.dalang.runtime.auth;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.tenant.TenantEntity;
import java.util.List;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.util.Map;
import java.util.Set;

/**
 * Who is calling: the tenant an API key belongs to, the key's public id and role, the tenant's pools
 * and the models those pools serve ({@code model id → pool id}), the tenant's quotas, and its ordered
 * fallback targets (pool targets carry the model their pool serves; targets of pools gone are left out).
 */
public record Principal(String tenantId, String keyId, Role role, Set<String> pools, Map<String, String> models,
    TenantEntity.Quotas quotas, List<FallbackTarget> fallbacks) {

  public Principal(String tenantId, String keyId, Role role, Set<String> pools, Map<String, String> models, TenantEntity.Quotas quotas) {
    this(tenantId, keyId, role, pools, models, quotas, List.of());
  }

  /** Whether this principal may act on {@code tenant}'s resources with a tenant role (its own tenant only). */
  public boolean ownTenant(String tenant) {
    return !role.platform() && tenantId.equals(tenant);
  }

  /** Platform keys administer; inference (runs and jobs, on either edge) needs a tenant key: else {@code permission_denied}. */
  public void requireTenantKey() {
    if (role.platform()) {
      throw new DalangException(ErrorCode.PERMISSION_DENIED, "platform keys (" + role.wireName() + ") administer Dalang; "
          + "inference needs a tenant key");
    }
  }

  /** "keyId (role, tenant)" for audit and denial messages; never the key. */
  public String describe() {
    return keyId + " (" + role.wireName() + ", tenant " + tenantId + ")";
  }
}
