package io.dalang.actors.audit;

import io.dalang.protocols.CborSerializable;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What happened, before the ledger gives it a place: the content of an {@link AuditEvent} without its
 * sequence number, time and hashes, which only the single writer ({@link AuditActor}) assigns.
 *
 * <p>Build one with {@link #ok}, {@link #denied} or {@link #failed} and add facts with {@link #with}.
 * Invalid input (blank actor, an action not shaped {@code noun.verb}) is a programming error and throws
 * here, at the caller, rather than in the writer. Over-long text is cut to {@link #MAX_TEXT} characters
 * ({@link #MAX_NAME} for tenant and actor) and marked {@code …[cut]}, so that no entry can be too large
 * to store and block the ledger behind it.
 *
 * @param tenant the tenant concerned; empty for platform-level actions
 * @param actor who acted: an API key id, {@code bootstrap-admin} or {@code system}; never a key itself
 * @param action {@code noun.verb}, see {@link AuditAction}
 * @param target the object acted on; may be empty
 * @param reason why it was denied or failed; empty when ok
 * @param details further facts (never secret values)
 */
public record AuditEntry(
    String tenant, String actor, String action, String target, AuditOutcome outcome, String reason,
    SortedMap<String, String> details)
    implements CborSerializable {

  /** Longest tenant, actor or detail key kept. */
  public static final int MAX_NAME = 256;
  /** Longest target, reason or detail value kept. */
  public static final int MAX_TEXT = 4096;
  /** Most details kept (the first by key). */
  public static final int MAX_DETAILS = 64;

  public AuditEntry {
    tenant = text(tenant, MAX_NAME);
    actor = text(actor, MAX_NAME);
    action = text(action, MAX_NAME);
    target = text(target, MAX_TEXT);
    reason = text(reason, MAX_TEXT);
    var d = new TreeMap<String, String>();
    if (details != null) {
      details.forEach((k, v) -> d.put(text(k, MAX_NAME), text(v, MAX_TEXT)));
      while (d.size() > MAX_DETAILS) d.pollLastEntry();
    }
    details = Collections.unmodifiableSortedMap(d);
    if (actor.isBlank()) throw new IllegalArgumentException("an audit entry needs an actor");
    if (!AuditAction.isValid(action)) {
      throw new IllegalArgumentException("audit action '" + action + "' is not shaped noun.verb (lower case, e.g. key.issue)");
    }
    if (outcome == null) throw new IllegalArgumentException("an audit entry needs an outcome");
  }

  public static AuditEntry ok(String tenant, String actor, String action, String target) {
    return new AuditEntry(tenant, actor, action, target, AuditOutcome.OK, "", null);
  }

  public static AuditEntry denied(String tenant, String actor, String action, String target, String reason) {
    return new AuditEntry(tenant, actor, action, target, AuditOutcome.DENIED, reason, null);
  }

  public static AuditEntry failed(String tenant, String actor, String action, String target, String reason) {
    return new AuditEntry(tenant, actor, action, target, AuditOutcome.FAILED, reason, null);
  }

  /** A copy with one more detail (replacing one of the same key). */
  public AuditEntry with(String key, String value) {
    var d = new TreeMap<>(details);
    d.put(key, value);
    return new AuditEntry(tenant, actor, action, target, outcome, reason, d);
  }

  /** A copy with these details added. */
  public AuditEntry with(Map<String, String> more) {
    var d = new TreeMap<>(details);
    d.putAll(more);
    return new AuditEntry(tenant, actor, action, target, outcome, reason, d);
  }

  /**
   * Null as empty, cut to {@code max}, and text exactly as it will read back: a lone UTF-16 surrogate
   * cannot be encoded as UTF-8, so it is replaced here (as the encoder would) rather than hashed one
   * way and stored another.
   */
  private static String text(String s, int max) {
    if (s == null) return "";
    String t = s.length() > max ? s.substring(0, max - CUT.length()) + CUT : s;
    return new String(t.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
  }

  private static final String CUT = "…[cut]";
}
