package io.dalang.actors.audit;

import io.dalang.protocols.CborSerializable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Which events a query or export wants. A null field matches everything; an empty {@code tenant}
 * matches platform-level events only. Time bounds are {@code since <= time < until}. Paging: events
 * after {@code afterSeq}, at most {@code limit} (0: no limit), always in seq order.
 *
 * <p>Start from {@link #ALL} and narrow it: {@code AuditFilter.ALL.tenant("acme").outcome(AuditOutcome.DENIED)}.
 */
public record AuditFilter(
    String tenant, String actor, String action, AuditOutcome outcome, Long sinceEpochMs, Long untilEpochMs,
    long afterSeq, int limit)
    implements CborSerializable {

  public static final AuditFilter ALL = new AuditFilter(null, null, null, null, null, null, 0, 0);

  public AuditFilter {
    if (afterSeq < 0) throw new IllegalArgumentException("afterSeq must be >= 0, not " + afterSeq);
    if (limit < 0) throw new IllegalArgumentException("limit must be >= 0, not " + limit);
  }

  public AuditFilter tenant(String t) {
    return new AuditFilter(t, actor, action, outcome, sinceEpochMs, untilEpochMs, afterSeq, limit);
  }

  public AuditFilter actor(String a) {
    return new AuditFilter(tenant, a, action, outcome, sinceEpochMs, untilEpochMs, afterSeq, limit);
  }

  public AuditFilter action(String a) {
    return new AuditFilter(tenant, actor, a, outcome, sinceEpochMs, untilEpochMs, afterSeq, limit);
  }

  public AuditFilter outcome(AuditOutcome o) {
    return new AuditFilter(tenant, actor, action, o, sinceEpochMs, untilEpochMs, afterSeq, limit);
  }

  public AuditFilter since(Long epochMs) {
    return new AuditFilter(tenant, actor, action, outcome, epochMs, untilEpochMs, afterSeq, limit);
  }

  public AuditFilter until(Long epochMs) {
    return new AuditFilter(tenant, actor, action, outcome, sinceEpochMs, epochMs, afterSeq, limit);
  }

  public AuditFilter page(long after, int max) {
    return new AuditFilter(tenant, actor, action, outcome, sinceEpochMs, untilEpochMs, after, max);
  }

  /**
   * Whether this filter leaves events out (paging aside): an export made with it is not a whole chain,
   * so its links cannot be verified.
   */
  public boolean selects() {
    return !criteria().isEmpty();
  }

  /** The criteria that are set, by name (as an export's header lists them). */
  public Map<String, String> criteria() {
    var m = new LinkedHashMap<String, String>();
    if (tenant != null) m.put("tenant", tenant);
    if (actor != null) m.put("actor", actor);
    if (action != null) m.put("action", action);
    if (outcome != null) m.put("outcome", outcome.wire());
    if (sinceEpochMs != null) m.put("since_epoch_ms", Long.toString(sinceEpochMs));
    if (untilEpochMs != null) m.put("until_epoch_ms", Long.toString(untilEpochMs));
    return m;
  }

  /**
   * The filter a tenant admin's query runs with: limited to their tenant. Empty if the request names
   * another tenant; the edge answers that with {@code permission_denied} (and records
   * {@link AuditAction#ACCESS_DENIED}).
   */
  public Optional<AuditFilter> forTenantAdmin(String adminTenant) {
    if (tenant != null && !tenant.equals(adminTenant)) return Optional.empty();
    return Optional.of(tenant(adminTenant));
  }
}
