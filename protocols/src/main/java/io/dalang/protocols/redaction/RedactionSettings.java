package io.dalang.protocols.redaction;

import java.util.List;
import java.util.Map;

/**
 * What an operator configured about redaction ({@code dalang.redaction} in HOCON, read by the runtime).
 * Credentials (API keys, {@code Authorization} values, tokens, known secret values) are redacted whatever
 * these settings say; they only switch the redaction of content (emails, phone numbers, card numbers and
 * the extra patterns) on or off, globally and per tenant.
 *
 * @param enabled content redaction for every tenant without an override, and for log lines
 * @param patterns extra content patterns for every tenant
 * @param tenants per-tenant overrides, by tenant id
 */
public record RedactionSettings(boolean enabled, List<CustomPattern> patterns, Map<String, TenantOverride> tenants) {

  /** Built-in rules only, content redaction on. */
  public static final RedactionSettings DEFAULTS = new RedactionSettings(true, List.of(), Map.of());

  /** The replacement of a custom pattern that names none. */
  public static final String DEFAULT_REPLACEMENT = "[redacted]";

  public RedactionSettings {
    patterns = List.copyOf(patterns);
    tenants = Map.copyOf(tenants);
  }

  /**
   * One extra pattern, a Java regular expression.
   *
   * @param name shown in configuration errors
   * @param replacement what replaces each match; {@link #DEFAULT_REPLACEMENT} when null or blank
   */
  public record CustomPattern(String name, String regex, String replacement) {}

  /**
   * How one tenant's content is redacted where the tenant is known (its prompts and completions in
   * exports).
   *
   * @param enabled null: the global {@code enabled}
   * @param patterns extra content patterns of this tenant only, on top of the global ones
   */
  public record TenantOverride(Boolean enabled, List<CustomPattern> patterns) {
    public TenantOverride {
      patterns = List.copyOf(patterns);
    }
  }
}
