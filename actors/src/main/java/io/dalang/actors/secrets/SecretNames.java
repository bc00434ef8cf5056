package io.dalang.actors.secrets;

import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import java.util.regex.Pattern;

/**
 * The shape of namespaces and secret names: 1–63 characters of lower-case letters, digits, dots,
 * underscores and dashes, starting with a letter or digit. Plain enough for paths, metrics labels and
 * audit lines without escaping.
 */
public final class SecretNames {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  private SecretNames() {}

  /** Null when both are valid, else the {@code invalid_request} error naming the first bad one. */
  public static DalangError check(String namespace, String name) {
    DalangError ns = checkNamespace(namespace);
    return ns != null ? ns : checkOne("name", name);
  }

  public static DalangError checkNamespace(String namespace) {
    return checkOne("namespace", namespace);
  }

  /** Null when {@code actor} names who asks, as every audited command must. */
  static DalangError checkActor(String actor) {
    return actor == null || actor.isBlank() ? DalangError.of(ErrorCode.INVALID_REQUEST, "actor must name who asks (for the audit)") : null;
  }

  private static DalangError checkOne(String what, String value) {
    if (value != null && NAME.matcher(value).matches()) return null;
    String shown = value == null ? "null" : "'" + (value.length() > 64 ? value.substring(0, 64) + "…" : value) + "'";
    return DalangError.of(ErrorCode.INVALID_REQUEST,
        "secret " + what + " " + shown + " must be 1-63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit");
  }
}
