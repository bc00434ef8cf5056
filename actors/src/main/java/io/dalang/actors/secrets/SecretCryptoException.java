package io.dalang.actors.secrets;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;

/**
 * A ciphertext that cannot be decrypted, and why. Always {@code internal} to a client (a stored secret
 * that does not decrypt is the operator's problem, not the caller's); the message names the secret and
 * the key id, never a value, and carries no cause.
 */
public final class SecretCryptoException extends DalangException {
  private static final long serialVersionUID = 1L;

  /** Why decryption failed. */
  public enum Reason {
    /** Encrypted under a key id this process does not have (e.g. the previous key was removed too early). */
    UNKNOWN_KEY,
    /** The authentication tag did not verify: ciphertext, nonce or binding changed, or another key with the same id. */
    TAMPERED,
    /** Not a ciphertext this code writes (wrong nonce length, too short). */
    MALFORMED
  }

  private final Reason reason;

  public SecretCryptoException(Reason reason, String message) {
    super(ErrorCode.INTERNAL, message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
