package io.dalang.protocols.error;

/**
 * The OpenAI-compatible error body: {@code {"error": {"type", "code", "message"}}}. The
 * {@code param} field is OpenAI's: the field a validation error is about, or the quota that was exceeded.
 */
public record ErrorBody(Detail error) {

  public record Detail(String type, String code, String message, String param) {}

  public static ErrorBody of(DalangError e) {
    return new ErrorBody(new Detail(e.code().type(), e.code().code(), e.message(), e.param()));
  }

  public static ErrorBody of(ErrorCode code, String message) {
    return of(new DalangError(code, message));
  }
}
