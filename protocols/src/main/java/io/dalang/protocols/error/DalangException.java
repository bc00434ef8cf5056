package io.dalang.protocols.error;

/**
 * A typed failure at an edge or in native code. Inside actors errors travel as {@link DalangError}
 * values instead; this exception exists for the places where Java code must throw.
 */
public class DalangException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;
  private final String param;
  private final long retryAfterSeconds;

  public DalangException(ErrorCode code, String message) {
    this(code, message, null, 0);
  }

  /** @see DalangError for {@code param} and {@code retryAfterSeconds} */
  public DalangException(ErrorCode code, String message, String param, long retryAfterSeconds) {
    super(message);
    this.code = code;
    this.param = param;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  public DalangException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
    this.param = null;
    this.retryAfterSeconds = 0;
  }

  public ErrorCode code() {
    return code;
  }

  public DalangError toError() {
    return new DalangError(code, getMessage(), param, retryAfterSeconds);
  }
}
