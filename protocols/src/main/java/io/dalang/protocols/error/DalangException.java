package io.dalang.protocols.error;

/**
 * A typed failure at an edge or in native code. Inside actors errors travel as {@link DalangError}
 * values instead; this exception exists for the places where Java code must throw.
 */
public class DalangException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final ErrorCode code;

  public DalangException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public DalangException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  public DalangError toError() {
    return new DalangError(code, getMessage());
  }
}
