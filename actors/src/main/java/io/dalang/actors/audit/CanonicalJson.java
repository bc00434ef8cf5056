package io.dalang.actors.audit;

import java.util.Map;
import java.util.SortedMap;

/**
 * The canonical JSON that audit hashes are computed over: RFC 8785 (JSON Canonicalization Scheme)
 * for the only value types the audit ledger writes — strings, integers, booleans and objects of those.
 *
 * <p>Written by hand rather than by a general JSON mapper so that the form is fixed by this file and
 * the RFC alone, not by a library version: object members sorted by key (UTF-16 code units, which is
 * {@link String#compareTo}), no whitespace, integers in plain decimal, strings with only {@code "},
 * {@code \} and the control characters U+0000..U+001F escaped ({@code \b \t \n \f \r} in their short
 * form, the others as {@code \}{@code u00xx} with lower-case hex), everything else written as itself.
 * The result is encoded as UTF-8 before hashing.
 */
final class CanonicalJson {
  private CanonicalJson() {}

  /** One object; values must be {@link String}, {@link Long}/{@link Integer}, {@link Boolean}, or a sorted map of these. */
  static String object(SortedMap<String, ?> members) {
    var out = new StringBuilder(256);
    writeObject(out, members);
    return out.toString();
  }

  private static void writeObject(StringBuilder out, Map<String, ?> members) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<String, ?> e : members.entrySet()) {
      if (!first) out.append(',');
      first = false;
      writeString(out, e.getKey());
      out.append(':');
      writeValue(out, e.getValue());
    }
    out.append('}');
  }

  @SuppressWarnings("unchecked")
  private static void writeValue(StringBuilder out, Object v) {
    if (v instanceof String s) {
      writeString(out, s);
    } else if (v instanceof Long || v instanceof Integer || v instanceof Boolean) {
      out.append(v);
    } else if (v instanceof SortedMap<?, ?> m) {
      writeObject(out, (SortedMap<String, ?>) m);
    } else {
      throw new IllegalArgumentException("canonical JSON holds strings, integers, booleans and sorted maps only, not " + v);
    }
  }

  static void writeString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
