package io.dalang.protocols.redaction;

/**
 * What one pass over a text found out, for the rules' cheap checks: how many digits, whether an
 * {@code @} occurs, and substring tests without regular expressions.
 */
final class TextScan {
  final String text;
  final int digits;
  final boolean hasAt;

  TextScan(String text) {
    this.text = text;
    int d = 0;
    boolean at = false;
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') d++;
      else if (c == '@') at = true;
    }
    this.digits = d;
    this.hasAt = at;
  }

  boolean contains(String s) {
    return text.contains(s);
  }

  /** Case-insensitive {@code contains} for an ASCII, lower-case {@code needle}. */
  boolean containsIgnoreCase(String needle) {
    int n = needle.length();
    char first = needle.charAt(0);
    char firstUpper = Character.toUpperCase(first);
    for (int i = 0, last = text.length() - n; i <= last; i++) {
      char c = text.charAt(i);
      if ((c == first || c == firstUpper) && text.regionMatches(true, i, needle, 0, n)) return true;
    }
    return false;
  }

  boolean containsAnyIgnoreCase(String... needles) {
    for (String s : needles) {
      if (containsIgnoreCase(s)) return true;
    }
    return false;
  }
}
