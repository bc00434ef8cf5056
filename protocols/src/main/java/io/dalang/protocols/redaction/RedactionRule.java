package io.dalang.protocols.redaction;

import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One rule of the {@link Redactor}: a cheap check whether it can match at all, and the replacement of
 * what it matches. The cheap check keeps the common case (a log line with nothing to redact) from
 * running any regular expression.
 */
interface RedactionRule {
  String name();

  /** False only when the rule cannot match the scanned text. */
  boolean mayMatch(TextScan scan);

  /** {@code text} with the matches replaced; the same instance when nothing changed. */
  String apply(String text);

  static RedactionRule fixed(String name, Predicate<TextScan> mayMatch, String regex, String replacement) {
    return new PatternRule(name, mayMatch, Pattern.compile(regex), m -> replacement);
  }

  /** Like {@link #fixed} but replaces only the matches {@code valid} accepts. */
  static RedactionRule validated(String name, Predicate<TextScan> mayMatch, String regex, Predicate<String> valid, String replacement) {
    return new PatternRule(name, mayMatch, Pattern.compile(regex), m -> valid.test(m.group()) ? replacement : null);
  }

  /** Keeps the groups before the credential ({@code $1$2...}) and replaces the rest. */
  static RedactionRule keepingPrefix(String name, Predicate<TextScan> mayMatch, String regex, int prefixGroups, String replacement) {
    return new PatternRule(name, mayMatch, Pattern.compile(regex), m -> {
      var sb = new StringBuilder();
      for (int g = 1; g <= prefixGroups; g++) {
        if (m.group(g) != null) sb.append(m.group(g));
      }
      return sb.append(replacement).toString();
    });
  }

  /**
   * A regular expression and what replaces each match.
   *
   * @param replacement the text for a match, or null to keep the match (a validator said no, e.g. Luhn)
   */
  record PatternRule(String name, Predicate<TextScan> check, Pattern pattern, Function<MatchResult, String> replacement)
      implements RedactionRule {

    @Override
    public boolean mayMatch(TextScan scan) {
      return check.test(scan);
    }

    @Override
    public String apply(String text) {
      Matcher m = pattern.matcher(text);
      StringBuilder out = null;
      int last = 0;
      while (m.find()) {
        String r = replacement.apply(m);
        if (r == null) continue;
        if (out == null) out = new StringBuilder(text.length());
        out.append(text, last, m.start()).append(r);
        last = m.end();
      }
      if (out == null) return text;
      return out.append(text, last, text.length()).toString();
    }
  }
}
