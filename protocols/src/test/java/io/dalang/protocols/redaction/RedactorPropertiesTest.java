package io.dalang.protocols.redaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

/** Properties of the card and phone rules over random numbers, with nothing remembered as a secret. */
class RedactorPropertiesTest {
  final Redactor redactor = Redactor.of(RedactionSettings.DEFAULTS, new KnownSecrets(1));

  static String card(int issuer, long body, int length) {
    String digits = issuer + String.format("%018d", body).substring(0, length - 2);
    return RedactorTest.withCheckDigit(digits);
  }

  @Property
  void everyLuhnValidCardNumberIsRedactedWithOrWithoutGrouping(@ForAll @IntRange(min = 2, max = 6) int issuer,
      @ForAll @LongRange(min = 0, max = 999_999_999_999_999_999L) long body, @ForAll @IntRange(min = 13, max = 19) int length,
      @ForAll boolean grouped) {
    String number = card(issuer, body, length);
    String shown = grouped ? number.replaceAll("(\\d{4})(?=\\d)", "$1 ") : number;
    assertEquals("paid with [card].", redactor.redact("paid with " + shown + "."));
  }

  @Property
  void aWrongCheckDigitKeepsTheNumber(@ForAll @IntRange(min = 2, max = 6) int issuer,
      @ForAll @LongRange(min = 0, max = 999_999_999_999_999_999L) long body, @ForAll @IntRange(min = 13, max = 19) int length,
      @ForAll @IntRange(min = 1, max = 9) int off) {
    String valid = card(issuer, body, length);
    int last = valid.charAt(valid.length() - 1) - '0';
    String wrong = valid.substring(0, valid.length() - 1) + (char) ('0' + (last + off) % 10);
    assertEquals("id " + wrong + ".", redactor.redact("id " + wrong + "."));
  }

  @Property
  void epochTimesAndDurationsAreNeverRedacted(@ForAll @LongRange(min = 1_000_000_000_000L, max = 1_999_999_999_999L) long epochMs,
      @ForAll @LongRange(min = 0, max = 1_000_000_000L) long nanos) {
    String line = "at " + epochMs + " took " + nanos + " ns, " + java.time.Instant.ofEpochMilli(epochMs);
    assertEquals(line, redactor.redact(line));
  }

  @Property
  void internationalNumbersAreRedacted(@ForAll @IntRange(min = 1, max = 999) int country,
      @ForAll @LongRange(min = 10_000_000L, max = 99_999_999_999L) long subscriber) {
    String text = "reach me at +" + country + " " + subscriber + " please";
    assertFalse(redactor.redact(text).contains(String.valueOf(subscriber)), redactor.redact(text));
  }
}
