package io.dalang.runtime.admin;

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
}
