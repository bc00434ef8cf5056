package io.dalang.protocols.error;

/**
 * The text of an entity's typed refusal: the {@link ErrorCode} in a prefix of the message,
 * {@code [not_found] tenant acme does not exist}. Entities reply {@code StatusReply.error(Refusal.notFound(...))};
 * the refusal crosses the cluster as that text (Pekko serializes {@code StatusReply.error(String)} as its
 * message only, so no exception type of ours needs a serializer), and the edges' error mapper reads it
 * back with {@link #parse}: the client sees the code and the message, never the prefix.
 *
 * <p>Which code: an unknown target is {@link ErrorCode#NOT_FOUND}, a duplicate or a change that conflicts
 * with the state {@link ErrorCode#CONFLICT}, a broken rule {@link ErrorCode#INVALID_REQUEST}.
 */
public final class Refusal {
  private Refusal() {}

  /** A refusal's text: {@code message} with {@code code} in its prefix. */
  public static String text(ErrorCode code, String message) {
    return "[" + code.code() + "] " + message;
  }

  /** {@link #text} with {@link ErrorCode#NOT_FOUND}: the command's target does not exist. */
  public static String notFound(String message) {
    return text(ErrorCode.NOT_FOUND, message);
  }

  /** {@link #text} with {@link ErrorCode#CONFLICT}: the target exists already, or its state forbids the change. */
  public static String conflict(String message) {
    return text(ErrorCode.CONFLICT, message);
  }

  /** {@link #text} with {@link ErrorCode#INVALID_REQUEST}: the command breaks a rule of the entity. */
  public static String invalid(String message) {
    return text(ErrorCode.INVALID_REQUEST, message);
  }

  /**
   * The typed error a refusal's text stands for. Text without a known code in its prefix (a refusal
   * written without one) is {@code unprefixed} with the text as it is.
   */
  public static DalangError parse(String text, ErrorCode unprefixed) {
    String s = text == null ? "" : text;
    int end = s.indexOf("] ");
    if (s.startsWith("[") && end > 1) {
      String code = s.substring(1, end);
      for (ErrorCode e : ErrorCode.values()) {
        if (e.code().equals(code)) return DalangError.of(e, s.substring(end + 2));
      }
    }
    return DalangError.of(unprefixed, s);
  }

  /** The code of a refusal's text, or {@code unprefixed}; for tests and logs. */
  public static ErrorCode code(String text, ErrorCode unprefixed) {
    return parse(text, unprefixed).code();
  }
}
