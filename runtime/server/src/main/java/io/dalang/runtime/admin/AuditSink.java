package io.dalang.runtime.admin;

import io.dalang.actors.audit.AuditEntry;
import io.dalang.actors.secrets.SecretAccess;
import java.util.Locale;
import java.util.Map;

/**
 * Where the edges record audit events: every admin change, every denied operation, key issue and
 * revocation. The node wires it to the audit ledger. Implementations must not block the caller.
 */
@FunctionalInterface
public interface AuditSink {

  /**
   * @param tenant the tenant the operation concerned, empty for platform-level ones
   * @param actor who: a key id, {@code anonymous} when no valid key was sent
   * @param action what, e.g. {@code tenant.create}, {@code key.revoke}
   * @param target the object acted on, e.g. a key id
   * @param outcome {@code ok}, {@code denied} or {@code failed}
   * @param reason why it was denied or failed, empty when ok
   * @param details more facts (never secrets or keys)
   */
  void record(String tenant, String actor, String action, String target, String outcome, String reason, Map<String, String> details);

  /** The ledger's entry for {@link #record}'s arguments. */
  public static AuditEntry entry(String tenant, String actor, String action, String target, String outcome, String reason, Map<String, String> details) {
    AuditEntry e = switch (outcome) {
      case "ok" -> AuditEntry.ok(tenant, actor, action, target);
      case "denied" -> AuditEntry.denied(tenant, actor, action, target, reason);
      default -> AuditEntry.failed(tenant, actor, action, target, reason);
    };
    return e.with(details);
  }

  /** A secret access as an entry: the secret by namespace/name and version, never its value. */
  public static AuditEntry secretEntry(SecretAccess access) {
    boolean ok = access.outcome() == SecretAccess.Outcome.OK;
    return entry(access.tenant(), access.actor(), "secret." + access.action().name().toLowerCase(Locale.ROOT),
        access.namespace() == null ? "" : access.namespace() + (access.name() == null ? "" : "/" + access.name()),
        ok ? "ok" : "failed", ok ? "" : access.outcome().name().toLowerCase(Locale.ROOT),
        access.version() > 0 ? Map.of("version", Integer.toString(access.version())) : Map.of());
  }
}
