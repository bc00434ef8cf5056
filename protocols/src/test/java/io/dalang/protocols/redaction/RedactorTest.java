package io.dalang.protocols.redaction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RedactorTest {
  final KnownSecrets known = new KnownSecrets(16);
  final Redactor redactor = Redactor.of(RedactionSettings.DEFAULTS, known);

  String redact(String s) {
    return redactor.redact(s);
  }

  @Test
  void replacesEmailsButNotClusterAddresses() {
    assertEquals("write to [email] today", redact("write to jane.doe+tag@mail.example.co.uk today"));
    assertEquals("<[email]>.", redact("<J.Smith@Example.com>."));
    assertEquals("pekko://dalang@127.0.0.1:25520", redact("pekko://dalang@127.0.0.1:25520"));
    assertEquals("pekko://dalang@node1.example.com:25520", redact("pekko://dalang@node1.example.com:25520"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"+1 415 555 2671", "+1-415-555-2671", "+44 20 7946 0958", "+44 (0)20 7946 0958", "+4930123456",
      "(415) 555-2671", "415-555-2671", "415.555.2671", "020 7946 0958", "030/12345678", "06 12 34 56 78"})
  void replacesPhoneNumbersInCommonFormats(String phone) {
    assertEquals("call [phone] now", redact("call " + phone + " now"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"2024-06-01T12:34:56.789Z", "12:34:56.789", "01/02/2024", "01-02-2024 12:30", "127.0.0.1:8080",
      "version 1.2.3", "took 1234567 ms", "port 25520", "epoch 1718000000000 ms", "run_abcdefghij234567abcd",
      "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "123e4567-e89b-12d3-a456-426614174000",
      "context 4096 × 4 sequences, 16384 tokens", "offset +0200", "max_tokens=24 prompt_tokens: 7 completion_tokens 24",
      "slot demo-0 needs about 81 MiB (weights 12.5 MiB, KV cache 64.0 MiB)", "seed 11, 1234 5678", "node-1a2b3c4d",
      "ApiKey: [307] allocated at [Actor[pekko://dalang/system/sharding/ApiKey#-607909315]]", "TenantSecrets: shard [651] home"})
  void leavesTimestampsIdsAndPlainNumbersAlone(String text) {
    assertSame(text, redact(text), "nothing to redact in: " + text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "5555555555554444",
      "378282246310005", "6011111111111117", "3530111333300000", "4222222222222"})
  void replacesLuhnValidCardNumbers(String card) {
    assertEquals("card [card], thanks", redact("card " + card + ", thanks"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"4111 1111 1111 1112", "4111111111111110", "5555555555554445", "378282246310006"})
  void leavesLuhnInvalidCardNumbersAlone(String number) {
    assertEquals("card " + number + ", thanks", redact("card " + number + ", thanks"));
  }

  @Test
  void aLuhnValidNumberWithoutAnIssuerDigitIsNoCard() {
    String epochMs = withCheckDigit("171800000000");
    assertTrue(Redactor.luhn(epochMs));
    assertEquals("at " + epochMs, redact("at " + epochMs));
  }

  static String withCheckDigit(String body) {
    for (char d = '0'; d <= '9'; d++) {
      if (Redactor.luhn(body + d)) return body + d;
    }
    throw new AssertionError();
  }

  @Test
  void redactsAuthorizationValuesAndKeyFieldsKeepingTheirNames() {
    assertEquals("Authorization: Bearer [redacted]", redact("Authorization: Bearer abc.def-123"));
    assertEquals("authorization=Basic [redacted] ok", redact("authorization=Basic dXNlcjpwYXNz ok"));
    assertEquals("{\"api_key\": \"[redacted]\", \"n\": 1}", redact("{\"api_key\": \"s3cr3t-value\", \"n\": 1}"));
    assertEquals("OPENAI_API_KEY=[redacted]", redact("OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwx"));
    assertEquals("x-api-key: [redacted]", redact("x-api-key: 0123456789abcdef"));
    assertEquals("client_secret=[redacted]&grant=x", redact("client_secret=abc123&grant=x"));
    assertEquals("DALANG_JDBC_PASSWORD=[redacted]", redact("DALANG_JDBC_PASSWORD=hunter2"));
    assertEquals("github_token: [redacted]", redact("github_token: whatever"));
  }

  @Test
  void redactsBearerTokensAndKnownKeyFormatsAnywhere() {
    assertEquals("sent Bearer [key] upstream", redact("sent Bearer eyJhbGciOiJIUzI1NiJ9 upstream"));
    assertEquals("key [key] rejected", redact("key dlg-AbCdEfGhIjKlMnOpQrStUvWxYz012345 rejected"));
    assertEquals("provider said [key] is invalid", redact("provider said sk-ant-api03-abcdefghijklmnopqrstuvwxyz is invalid"));
    assertEquals("[key]", redact("AKIAIOSFODNN7EXAMPLE"));
    assertEquals("[key]", redact("ghp_abcdefghijklmnopqrstuvwxyz0123456789"));
    assertEquals("[key]", redact("hf_abcdefghijklmnopqrstuvwxyzABCDEF"));
    assertEquals("jwt [token]", redact("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"));
    assertEquals("task-abcdefghijklmnopqrstuvwxyz", redact("task-abcdefghijklmnopqrstuvwxyz"));
  }

  @Test
  void redactsPasswordsInUrlsAndPrivateKeys() {
    assertEquals("jdbc:postgresql://dalang:[redacted]@db:5432/x", redact("jdbc:postgresql://dalang:hunter2@db:5432/x"));
    String pem = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAK\n-----END RSA PRIVATE KEY-----\ndone";
    assertEquals("key:\n[private-key]\ndone", redact(pem));
    assertEquals("cut [private-key]", redact("cut -----BEGIN PRIVATE KEY-----\nMIIEow"));
  }

  @Test
  void scrubsKnownSecretValuesWhateverTheirShape() {
    known.remember("correct horse battery staple");
    known.remember("short");
    assertEquals("upstream said: bad key '[secret]'", redact("upstream said: bad key 'correct horse battery staple'"));
    assertEquals("Authorization: Bearer [secret]", redact("Authorization: Bearer correct horse battery staple"));
    assertEquals("short", redact("short"));
    known.forget("correct horse battery staple");
    assertEquals("correct horse battery staple", redact("correct horse battery staple"));
  }

  @Test
  void aSecretContainingAnotherIsScrubbedWhole() {
    known.remember("abcdefgh");
    known.remember("abcdefgh-and-more");
    assertEquals("[secret] [secret]", redact("abcdefgh-and-more abcdefgh"));
  }

  @Test
  void turningContentRedactionOffNeverExposesCredentials() {
    var off = Redactor.of(new RedactionSettings(false, List.of(), Map.of()), known);
    String line = "jane@example.com called +1 415 555 2671 with Authorization: Bearer abcdefgh12345";
    assertEquals("jane@example.com called +1 415 555 2671 with Authorization: Bearer [redacted]", off.redact(line));
  }

  @Test
  void aTenantOverrideAppliesOnlyToThatTenant() {
    var settings = new RedactionSettings(true, List.of(),
        Map.of("research", new RedactionSettings.TenantOverride(false, List.of()),
            "acme", new RedactionSettings.TenantOverride(null, List.of(new RedactionSettings.CustomPattern("project", "Project [A-Z]+", "[project]")))));
    var r = Redactor.of(settings, known);
    String text = "mail jane@example.com about Project ORION, key dlg-AbCdEfGhIjKlMnOpQrStUv";
    assertEquals("mail jane@example.com about Project ORION, key [key]", r.redactForTenant("research", text));
    assertEquals("mail [email] about [project], key [key]", r.redactForTenant("acme", text));
    assertEquals("mail [email] about Project ORION, key [key]", r.redactForTenant("other", text));
    assertEquals(r.redact(text), r.redactForTenant("other", text));
    assertFalse(r.redactsContentOf("research"));
    assertTrue(r.redactsContentOf("acme"));
  }

  @Test
  void customPatternsUseTheirReplacementOrTheDefault() {
    var r = Redactor.of(new RedactionSettings(true, List.of(
        new RedactionSettings.CustomPattern("ticket", "ACME-\\d{6}", "[ticket]"),
        new RedactionSettings.CustomPattern("codename", "(?i)bluebird", null)), Map.of()), known);
    assertEquals("see [ticket] on [redacted]", r.redact("see ACME-123456 on BlueBird"));
  }

  @Test
  void anInvalidCustomPatternIsAConfigurationErrorNamingIt() {
    var e = assertThrows(IllegalArgumentException.class, () -> Redactor.of(new RedactionSettings(true,
        List.of(new RedactionSettings.CustomPattern("broken", "(unclosed", null)), Map.of()), known));
    assertTrue(e.getMessage().contains("'broken'"), e.getMessage());
  }

  @Test
  void leavesNullAndEmptyTextAsItIs() {
    assertEquals(null, redact(null));
    assertEquals("", redact(""));
  }
}
