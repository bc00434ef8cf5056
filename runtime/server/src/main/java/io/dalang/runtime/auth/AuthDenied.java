package io.dalang.runtime.auth;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;

/**
 * A failed authentication, with why ({@code reason}, the label of {@code dalang_auth_denied_total}) and,
 * when the key is one Dalang issued (revoked, or its tenant gone), whose it is: denials of known keys
 * are audited under their key id, anonymous ones (no key, an unknown key, too many failures) are only
 * counted, so a flood of guesses cannot fill the ledger.
 */
public final class AuthDenied extends DalangException {
  private static final long serialVersionUID = 1L;

  public static final String MISSING = "missing";
  public static final String UNKNOWN = "unknown";
  public static final String REVOKED = "revoked";
  public static final String TENANT_GONE = "tenant_gone";
  public static final String RATE_LIMITED = "rate_limited";

  private final String reason;
  private final String tenantId;
  private final String keyId;

  private AuthDenied(ErrorCode code, String message, long retryAfterSeconds, String reason, String tenantId, String keyId) {
    super(code, message, null, retryAfterSeconds);
    this.reason = reason;
    this.tenantId = tenantId;
    this.keyId = keyId;
  }

  static AuthDenied missing() {
    return new AuthDenied(ErrorCode.AUTHENTICATION_FAILED, "missing API key: send 'Authorization: Bearer <key>'", 0, MISSING, null, null);
  }

  static AuthDenied unknown() {
    return new AuthDenied(ErrorCode.AUTHENTICATION_FAILED, "invalid API key", 0, UNKNOWN, null, null);
  }

  /** A key Dalang issued that no longer authenticates: {@link #REVOKED} or {@link #TENANT_GONE}. */
  static AuthDenied known(String reason, String tenantId, String keyId) {
    return new AuthDenied(ErrorCode.AUTHENTICATION_FAILED, "invalid API key", 0, reason, tenantId, keyId);
  }

  static AuthDenied rateLimited(long retryAfterSeconds) {
    return new AuthDenied(ErrorCode.TOO_MANY_AUTH_FAILURES, "too many failed authentications from this address; retry after "
        + retryAfterSeconds + " s", retryAfterSeconds, RATE_LIMITED, null, null);
  }

  public String reason() {
    return reason;
  }

  /** Whether the key is one Dalang issued (then {@link #tenantId()} and {@link #keyId()} name it). */
  public boolean knownKey() {
    return keyId != null;
  }

  public String tenantId() {
    return tenantId;
  }

  public String keyId() {
    return keyId;
  }
}
