package io.dalang.protocols.error;

import io.dalang.protocols.CborSerializable;

/**
 * A typed error as a value: what actors reply and what edges render. Never holds a stack trace.
 *
 * @param param the request field or the quota the error is about (OpenAI's {@code param}), null if none
 * @param retryAfterSeconds when retrying can succeed, in seconds from now; 0: the code's default
 */
public record DalangError(ErrorCode code, String message, String param, long retryAfterSeconds) implements CborSerializable {

  public DalangError(ErrorCode code, String message) {
    this(code, message, null, 0);
  }

  public static DalangError of(ErrorCode code, String message) {
    return new DalangError(code, message);
  }

  /**
   * The seconds both edges tell a client to wait before retrying (HTTP {@code Retry-After}, the gRPC
   * {@code retry-after} trailer): the error's own, else 1 for a retriable code; 0: say nothing.
   */
  public long retryAfter() {
    return retryAfterSeconds > 0 ? retryAfterSeconds : code.retriable() ? 1 : 0;
  }

  public DalangException toException() {
    return new DalangException(code, message, param, retryAfterSeconds);
  }
}
