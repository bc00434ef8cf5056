package io.dalang.protocols.redaction;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.PatternSyntaxException;

/**
 * Removes credentials and personal data from text before it is logged or exported.
 *
 * <p>Two classes of rules:
 * <ul>
 *   <li><b>Credentials, always</b>: values remembered in {@link KnownSecrets} ({@code [secret]}), PEM
 *       private keys, {@code Authorization}/{@code api_key}/{@code password}/{@code *_token}-style fields
 *       ({@code name: [redacted]}), {@code Bearer} tokens, Dalang API keys ({@code dlg-…}), well-known
 *       provider key formats ({@code sk-…}, {@code AKIA…}, {@code ghp_…}, {@code AIza…}, {@code xox?-…},
 *       {@code hf_…}), JWTs ({@code [token]}) and passwords in URLs. No setting turns these off.
 *   <li><b>Content, configurable</b>: emails ({@code [email]}), payment card numbers of 13–19 digits with
 *       optional spaces or dashes that start with 2–6 and pass the Luhn check ({@code [card]}), phone
 *       numbers in international ({@code +…}), North American ({@code (415) 555-2671}, {@code 415-555-2671})
 *       and trunk-prefix national ({@code 020 7946 0958}) formats with 9–15 digits ({@code [phone]}), and the
 *       configured extra patterns. {@link RedactionSettings#enabled()} and the per-tenant overrides
 *       switch these.
 * </ul>
 *
 * <p>Built to be cheap when nothing matches: one pass measures runs of digits, and each rule runs its
 * regular expression only when that pass and plain substring checks say it could match (a phone number
 * needs 9 digits with separators or a {@code +}, an email a domain with a letter TLD after an
 * {@code @}); credential fields are found by {@code indexOf}. Plain numbers,
 * timestamps, ports, versions and ids are left alone: the card rule needs the Luhn check and an issuer
 * digit (so epoch milliseconds, which start with 1, never qualify), the phone rules need phone-like
 * grouping. Immutable and thread-safe.
 */
public final class Redactor {
  static final String SECRET = "[secret]";

  private static final List<RedactionRule> CREDENTIALS = List.of(
      RedactionRule.fixed("private-key", s -> s.contains("PRIVATE KEY"),
          "-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\\s\\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\\z)", "[private-key]"),
      new CredentialFieldRule(),
      RedactionRule.keepingPrefix("bearer", s -> s.containsAnyIgnoreCase("bearer"),
          "(?i)\\b(bearer\\s+)[A-Za-z0-9._~+/=-]{8,}", 1, "[key]"),
      RedactionRule.keepingPrefix("url-credentials", s -> s.contains("@") && s.contains("://"),
          "(://[^\\s/:@]+:)[^\\s/@]+@", 1, "[redacted]@"),
      RedactionRule.fixed("dalang-key", s -> s.contains("dlg-"),
          "(?<![\\w-])dlg-[A-Za-z0-9_-]{16,}", "[key]"),
      RedactionRule.fixed("provider-key", Redactor::mayHoldProviderKey,
          "(?<![\\w-])(?:sk-[A-Za-z0-9_-]{20,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{36,}|AIza[0-9A-Za-z_-]{35}"
              + "|xox[abprs]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{30,})", "[key]"),
      RedactionRule.fixed("jwt", s -> s.contains("eyJ"),
          "(?<![\\w-])eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}", "[token]"));

  private static final List<RedactionRule> PII = List.of(
      RedactionRule.fixed("email", TextScan::mayHoldEmail,
          "(?<![A-Za-z0-9._%+/-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}(?![A-Za-z0-9-])", "[email]"),
      // Before phones: a card number must not be half-eaten as a phone number.
      RedactionRule.validated("card", s -> s.longestDigitRun >= 13,
          "(?<![\\w-])[2-6]\\d(?:[ -]?\\d){11,17}(?![\\w-])", Redactor::isCardNumber, "[card]"),
      RedactionRule.validated("phone", s -> s.longestSeparatedRun >= 9 || s.plusBeforeDigit && s.longestDigitRun >= 9,
          "(?<![\\w+.-])(?:"
              + "\\+[1-9]\\d{0,3}(?:[ .-]?\\(?\\d{1,5}\\)?){1,6}"
              + "|\\(\\d{3}\\) ?\\d{3}[ .-]\\d{4}"
              + "|\\d{3}[ .-]\\d{3}[ .-]\\d{4}"
              + "|0\\d{1,4}(?:[ /-]\\d{2,8}){1,4}"
              + ")(?![\\w:-]|\\.\\d)", Redactor::isPhoneNumber, "[phone]"));

  private final KnownSecrets known;
  private final List<RedactionRule> content;
  private final Map<String, List<RedactionRule>> tenantContent;

  private Redactor(KnownSecrets known, List<RedactionRule> content, Map<String, List<RedactionRule>> tenantContent) {
    this.known = known;
    this.content = content;
    this.tenantContent = tenantContent;
  }

  /** Built-in rules with content redaction on, scrubbing {@link KnownSecrets#GLOBAL}. */
  public static Redactor defaults() {
    return of(RedactionSettings.DEFAULTS, KnownSecrets.GLOBAL);
  }

  /** The configured redactor, scrubbing {@link KnownSecrets#GLOBAL}. */
  public static Redactor of(RedactionSettings settings) {
    return of(settings, KnownSecrets.GLOBAL);
  }

  /**
   * @throws IllegalArgumentException if a custom pattern is not a valid regular expression (the message
   *     names the pattern)
   */
  public static Redactor of(RedactionSettings settings, KnownSecrets known) {
    var global = settings.enabled() ? contentRules(settings.patterns(), List.of()) : List.<RedactionRule>of();
    var tenants = new HashMap<String, List<RedactionRule>>();
    settings.tenants().forEach((tenant, o) -> {
      boolean on = o.enabled() != null ? o.enabled() : settings.enabled();
      tenants.put(tenant, on ? contentRules(settings.patterns(), o.patterns()) : List.of());
    });
    return new Redactor(known, global, Map.copyOf(tenants));
  }

  private static List<RedactionRule> contentRules(List<RedactionSettings.CustomPattern> global,
      List<RedactionSettings.CustomPattern> tenant) {
    var rules = new ArrayList<>(PII);
    for (var p : global) rules.add(compile(p));
    for (var p : tenant) rules.add(compile(p));
    return List.copyOf(rules);
  }

  private static RedactionRule compile(RedactionSettings.CustomPattern p) {
    String replacement = p.replacement() == null || p.replacement().isBlank() ? RedactionSettings.DEFAULT_REPLACEMENT : p.replacement();
    try {
      return RedactionRule.fixed(p.name(), s -> true, p.regex(), replacement);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException("redaction pattern '" + p.name() + "' is not a valid regular expression: " + e.getDescription());
    }
  }

  /** For log lines and anything not tied to a tenant: credentials, and content unless turned off globally. */
  public String redact(CharSequence text) {
    return apply(text, content);
  }

  /** For a tenant's prompts and completions in exports: credentials, and content as the tenant's override says. */
  public String redactForTenant(String tenant, CharSequence text) {
    return apply(text, tenantContent.getOrDefault(tenant, content));
  }

  /** Whether content (PII, custom patterns) is redacted for {@code tenant}; credentials always are. */
  public boolean redactsContentOf(String tenant) {
    return !tenantContent.getOrDefault(tenant, content).isEmpty();
  }

  private String apply(CharSequence text, List<RedactionRule> contentRules) {
    if (text == null) return null;
    String s = text.toString();
    if (s.isEmpty()) return s;
    if (!known.isEmpty()) s = known.scrub(s, SECRET);
    // One scan of the text before any replacement: replacements only remove digits, '@' and keywords
    // (and split digit runs), so a check that says "cannot match" stays true for the text the rule sees.
    var scan = new TextScan(s);
    for (RedactionRule r : CREDENTIALS) {
      if (r.mayMatch(scan)) s = r.apply(s);
    }
    for (RedactionRule r : contentRules) {
      if (r.mayMatch(scan)) s = r.apply(s);
    }
    return s;
  }

  private static boolean mayHoldProviderKey(TextScan s) {
    return s.contains("sk-") || s.contains("AKIA") || s.contains("AIza") || s.contains("xox") || s.contains("hf_")
        || s.contains("ghp_") || s.contains("gho_") || s.contains("ghu_") || s.contains("ghs_") || s.contains("ghr_");
  }

  /** 13–19 digits once spaces and dashes are removed, passing the Luhn check. */
  static boolean isCardNumber(String candidate) {
    String digits = digitsOf(candidate);
    return digits.length() >= 13 && digits.length() <= 19 && luhn(digits);
  }

  /** The Luhn (mod 10) checksum every payment card number carries in its last digit. */
  static boolean luhn(String digits) {
    int sum = 0;
    boolean twice = false;
    for (int i = digits.length() - 1; i >= 0; i--) {
      int d = digits.charAt(i) - '0';
      if (twice) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
      twice = !twice;
    }
    return sum % 10 == 0;
  }

  /** E.164 allows at most 15 digits; fewer than 9 is a date, a short code or a count. */
  static boolean isPhoneNumber(String candidate) {
    int n = digitsOf(candidate).length();
    return n >= 9 && n <= 15;
  }

  private static String digitsOf(String s) {
    var sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') sb.append(c);
    }
    return sb.toString();
  }
}
