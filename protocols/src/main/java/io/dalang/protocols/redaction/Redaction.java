package io.dalang.protocols.redaction;

/**
 * The process's configured {@link Redactor}. Logback creates {@link RedactingConverter} itself, before
 * any Dalang code runs, so the converter cannot be handed the configured redactor and reads it from
 * here; exports use the same one. Until {@code serve} installs the configured redactor, the built-in
 * defaults apply (everything redacted), so nothing logged during start-up escapes.
 */
public final class Redaction {
  private static volatile Redactor current = Redactor.defaults();

  private Redaction() {}

  public static Redactor current() {
    return current;
  }

  public static void install(Redactor redactor) {
    if (redactor == null) throw new IllegalArgumentException("redactor must not be null");
    current = redactor;
  }
}
