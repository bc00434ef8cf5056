package io.dalang.protocols.redaction;

import java.util.Locale;

/**
 * What one pass over a text found out, for the rules' cheap checks: runs of digits in which single
 * separators may sit ({@code 415-555 2671} is a run of 10 with separators; {@code 12:34:56} is three
 * runs of 2, a colon breaks a run), whether a {@code +} precedes a digit, and substring tests. The
 * email check looks at each {@code @} only when asked.
 */
final class TextScan {
  private static final String RUN_SEPARATORS = " .-/()";

  final String text;
  /** The most digits in one run, separators allowed between digits, at most two in a row. */
  final int longestDigitRun;
  /** The most digits in one run that has at least one separator inside. */
  final int longestSeparatedRun;
  final boolean plusBeforeDigit;
  private String lower;

  TextScan(String text) {
    this.text = text;
    int longest = 0;
    int longestSeparated = 0;
    boolean plus = false;
    int run = 0;
    int gap = 0;
    boolean separated = false;
    for (int i = 0, n = text.length(); i < n; i++) {
      char c = text.charAt(i);
      if (c >= '0' && c <= '9') {
        if (gap > 0) separated = true;
        run++;
        gap = 0;
        if (run > longest) longest = run;
        if (separated && run > longestSeparated) longestSeparated = run;
        if (i > 0 && text.charAt(i - 1) == '+') plus = true;
      } else if (run > 0 && gap < 2 && RUN_SEPARATORS.indexOf(c) >= 0) {
        gap++;
      } else {
        run = 0;
        gap = 0;
        separated = false;
      }
    }
    this.longestDigitRun = longest;
    this.longestSeparatedRun = longestSeparated;
    this.plusBeforeDigit = plus;
  }

  boolean contains(String s) {
    return text.contains(s);
  }

  /** Case-insensitive {@code contains} for ASCII, lower-case needles. */
  boolean containsAnyIgnoreCase(String... needles) {
    if (lower == null) lower = text.toLowerCase(Locale.ROOT);
    for (String s : needles) {
      if (lower.contains(s)) return true;
    }
    return false;
  }

  /**
   * Whether some {@code @} has a local-part character before it and a domain after it that ends in a dot
   * and two letters: {@code pekko://dalang@127.0.0.1:25520}, in every Pekko log line, has not.
   */
  boolean mayHoldEmail() {
    for (int at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
      if (at == 0 || !isLocal(text.charAt(at - 1))) continue;
      int end = at + 1;
      while (end < text.length() && isDomain(text.charAt(end))) end++;
      while (end > at + 1 && (text.charAt(end - 1) == '.' || text.charAt(end - 1) == '-')) end--;
      int letters = 0;
      int i = end - 1;
      while (i > at && Character.isLetter(text.charAt(i)) && text.charAt(i) < 128) {
        letters++;
        i--;
      }
      if (letters >= 2 && i > at + 1 && text.charAt(i) == '.') return true;
    }
    return false;
  }

  private static boolean isLocal(char c) {
    return c < 128 && (Character.isLetterOrDigit(c) || "._%+-".indexOf(c) >= 0);
  }

  private static boolean isDomain(char c) {
    return c < 128 && (Character.isLetterOrDigit(c) || c == '.' || c == '-');
  }
}
