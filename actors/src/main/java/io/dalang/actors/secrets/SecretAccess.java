package io.dalang.actors.secrets;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;

/**
 * One audited use of a tenant's secrets, handed to the audit hook given to {@link SecretEntity#init}.
 * Every command produces one, reads included; none carries a value.
 *
 * @param namespace empty for a tenant-wide action (listing every namespace, rotation)
 * @param name empty for a tenant-wide action or a listing
 * @param version the version read or written; 0 when none (not found, rejected, tenant-wide)
 * @param actor who asked, as the caller named it (e.g. {@code key:demo-key-1}, {@code system:router})
 */
public record SecretAccess(String tenant, String namespace, String name, int version, String actor, Action action,
    Outcome outcome, Instant at) implements CborSerializable {

  /** What was done. */
  public enum Action { GET, PUT, DELETE, LIST, ROTATE }

  /** How it ended. */
  public enum Outcome {
    /** Done (a GET handed out the ciphertext of the version). */
    OK,
    /** No such secret or version. */
    NOT_FOUND,
    /** An invalid request (name, namespace, actor); nothing done. */
    REJECTED,
    /** A ciphertext did not decrypt, or (GET) the audit itself failed; nothing done. */
    FAILED
  }
}
