package io.dalang.protocols.redaction;

import java.util.ArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code Authorization: Bearer x}, {@code "api_key": "x"}, {@code DB_PASSWORD=x}, {@code github_token: x}:
 * a field whose name ends with a credential word, then {@code :} or {@code =}, then the value, which
 * becomes {@code [redacted]} while the name and any scheme ({@code Bearer}, {@code Basic}) stay.
 *
 * <p>Not a single regular expression: one with a leading {@code [\w-]*} and a case-insensitive
 * alternation costs microseconds per log line. The words are found with {@code indexOf} on a
 * lower-cased copy, and only the text right after a hit is matched against {@link #TAIL}.
 */
final class CredentialFieldRule implements RedactionRule {
  static final String[] WORDS = {"authorization", "apikey", "api_key", "api-key", "accesskey", "access_key", "access-key",
      "secretkey", "secret_key", "secret-key", "privatekey", "private_key", "private-key", "secret", "password", "passwd", "token"};
  /** Separator, optional scheme, then a value that does not start with '[' (already "[secret]", or Pekko's "[307]"). */
  private static final Pattern TAIL = Pattern.compile(
      "([\"']?\\s*[:=]\\s*[\"']?)((?i:bearer|basic|token|digest)\\s+)?+(?!\\[)[^\\s\"',;&}\\]]+");
  private static final String REPLACEMENT = "[redacted]";

  @Override
  public String name() {
    return "credential-field";
  }

  @Override
  public boolean mayMatch(TextScan scan) {
    return scan.containsAnyIgnoreCase(WORDS);
  }

  @Override
  public String apply(String text) {
    String lower = lowerSameLength(text);
    var spans = new ArrayList<int[]>(); // value start, value end
    Matcher tail = TAIL.matcher(text);
    for (String word : WORDS) {
      for (int i = lower.indexOf(word); i >= 0; i = lower.indexOf(word, i + 1)) {
        int end = i + word.length();
        if (isPekkoShardingPrefix(text, i, end)) continue;
        tail.region(end, text.length());
        if (!tail.lookingAt()) continue;
        int valueStart = tail.end(2) >= 0 ? tail.end(2) : tail.end(1);
        spans.add(new int[] {valueStart, tail.end()});
      }
    }
    if (spans.isEmpty()) return text;
    spans.sort((a, b) -> Integer.compare(a[0], b[0]));
    var out = new StringBuilder(text.length());
    int last = 0;
    for (int[] s : spans) {
      if (s[0] < last) continue; // the same value found through two words ("secret" in "secret_key")
      out.append(text, last, s[0]).append(REPLACEMENT);
      last = s[1];
    }
    return out.append(text, last, text.length()).toString();
  }

  /** Pekko sharding starts every log line of an entity type with its name: "ApiKey: …" is no credential. */
  private static boolean isPekkoShardingPrefix(String text, int start, int end) {
    return text.startsWith("ApiKey", start) && end - start == 6 && text.startsWith(": ", end)
        && (start == 0 || !Character.isLetterOrDigit(text.charAt(start - 1)));
  }

  /** Lower case char by char, so indexes match the original (String.toLowerCase may change the length). */
  private static String lowerSameLength(String s) {
    char[] c = s.toCharArray();
    for (int i = 0; i < c.length; i++) c[i] = Character.toLowerCase(c[i]);
    return new String(c);
  }
}
