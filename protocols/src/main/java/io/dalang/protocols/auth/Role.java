package io.dalang.protocols.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What an API key may do. Platform roles belong to keys of the reserved {@link #PLATFORM_TENANT}; tenant
 * roles act only on their own tenant.
 */
public enum Role {
  /** Everything: tenants, keys of any tenant, quotas, the fleet, the audit ledger. */
  PLATFORM_ADMIN,
  /** Read-only view of the fleet, tenants and audit, for on-call operators; no inference, no changes. */
  OPERATOR,
  /** Its own tenant: inference, its keys (tenant-admin and tenant-user only), its audit events and usage. */
  TENANT_ADMIN,
  /** Its own tenant's inference API, its own runs and usage. */
  TENANT_USER;

  /** The tenant id platform keys belong to; no user tenant may take it. */
  public static final String PLATFORM_TENANT = "platform";

  /** {@code platform-admin}, {@code operator}, {@code tenant-admin}, {@code tenant-user}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public boolean platform() {
    return this == PLATFORM_ADMIN || this == OPERATOR;
  }

  public static Optional<Role> parse(String s) {
    if (s == null) return Optional.empty();
    for (Role r : values()) if (r.wireName().equals(s.strip().toLowerCase(Locale.ROOT))) return Optional.of(r);
    return Optional.empty();
  }

  /** A stored role name; keys issued before roles existed are tenant users. */
  public static Role ofStored(String s) {
    return parse(s).orElse(TENANT_USER);
  }
}
