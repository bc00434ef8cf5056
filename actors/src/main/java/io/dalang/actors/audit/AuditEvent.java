package io.dalang.actors.audit;

import io.dalang.engine.Digests;
import io.dalang.protocols.CborSerializable;
import java.util.Collections;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One entry of the audit ledger: who did what to which object, and whether it was allowed. Entries
 * form a hash chain: each holds the hash of the one before it, so changing, removing or reordering
 * any stored entry breaks every link after it.
 *
 * <p>Never put a secret into an event: an API key appears only as its key id or SHA-256, a secret
 * only by name.
 *
 * <h2>Canonical form and hash</h2>
 * {@code hash = lower-case hex of SHA-256 over the UTF-8 bytes of canonicalJson()}, where the
 * canonical JSON is the RFC 8785 form ({@link CanonicalJson}) of an object with exactly these ten
 * members — every field but {@code hash}:
 *
 * <pre>{@code
 * {"action":"key.issue","actor":"bootstrap-admin","details":{"pool":"demo"},"outcome":"ok",
 *  "prev_hash":"000…000","reason":"","seq":1,"target":"key-1","tenant":"acme","time_epoch_ms":1735689600000}
 * }</pre>
 *
 * (one line in reality). Empty strings and an empty {@code details} object are written, never left
 * out. The first event's {@code prev_hash} is {@link AuditChain#GENESIS_HASH} (64 zeros).
 *
 * @param seq position in the chain, from 1, without gaps
 * @param timeEpochMs when the writer recorded it, milliseconds since the epoch (UTC)
 * @param tenant the tenant concerned; empty for platform-level actions
 * @param actor who acted: an API key id, {@code bootstrap-admin} or {@code system}
 * @param action what was done, {@code noun.verb}, e.g. {@code key.issue} (see {@link AuditAction})
 * @param target the object acted on (a tenant id, key id, secret name, route); may be empty
 * @param outcome {@code ok}, {@code denied} or {@code failed} ({@link AuditOutcome})
 * @param reason why it was denied or failed, in words; empty when ok
 * @param details further facts, sorted by key
 * @param prevHash {@code hash} of event {@code seq - 1}, or the genesis hash for {@code seq = 1}
 * @param hash SHA-256 of this event's canonical JSON
 */
public record AuditEvent(
    long seq,
    long timeEpochMs,
    String tenant,
    String actor,
    String action,
    String target,
    String outcome,
    String reason,
    SortedMap<String, String> details,
    String prevHash,
    String hash)
    implements CborSerializable {

  public AuditEvent {
    tenant = nonNull(tenant);
    actor = nonNull(actor);
    action = nonNull(action);
    target = nonNull(target);
    outcome = nonNull(outcome);
    reason = nonNull(reason);
    details = details == null ? Collections.emptySortedMap() : Collections.unmodifiableSortedMap(new TreeMap<>(details));
    prevHash = nonNull(prevHash);
    hash = nonNull(hash);
  }

  /** The JSON every field but {@code hash} is hashed as; see the class comment for the exact form. */
  public String canonicalJson() {
    return CanonicalJson.object(canonicalMembers());
  }

  /** The members of the canonical JSON, sorted by name. */
  TreeMap<String, Object> canonicalMembers() {
    var m = new TreeMap<String, Object>();
    m.put("seq", seq);
    m.put("time_epoch_ms", timeEpochMs);
    m.put("tenant", tenant);
    m.put("actor", actor);
    m.put("action", action);
    m.put("target", target);
    m.put("outcome", outcome);
    m.put("reason", reason);
    m.put("details", new TreeMap<>(details));
    m.put("prev_hash", prevHash);
    return m;
  }

  /** SHA-256 of {@link #canonicalJson()}: what {@link #hash} must be for the event to be intact. */
  public String computeHash() {
    return Digests.sha256(canonicalJson());
  }

  /** This event with {@code hash} set to {@link #computeHash()}. */
  AuditEvent withComputedHash() {
    return new AuditEvent(seq, timeEpochMs, tenant, actor, action, target, outcome, reason, details, prevHash, computeHash());
  }

  /** The details as a canonical JSON object (also how the store keeps them). */
  public String detailsJson() {
    return CanonicalJson.object(details);
  }

  private static String nonNull(String s) {
    return s == null ? "" : s;
  }
}
