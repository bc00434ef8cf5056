package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.redaction.KnownSecrets;
import io.dalang.protocols.redaction.RedactionSettings;
import io.dalang.protocols.redaction.Redactor;
import java.util.List;
import org.junit.jupiter.api.Test;

class RedactionConfigTest {

  @Test
  void theShippedDefaultsRedactContentForEveryone() {
    var s = RedactionConfig.read(ConfigFactory.load());
    assertTrue(s.enabled());
    assertEquals(List.of(), s.patterns());
    assertTrue(s.tenants().isEmpty());
  }

  @Test
  void readsPatternsAsStringsOrObjectsAndTenantOverrides() {
    var s = RedactionConfig.read(ConfigFactory.parseString("""
        dalang.redaction {
          enabled = true
          patterns = ["ACME-[0-9]{6}", { name = "codename", regex = "(?i)bluebird", replacement = "[codename]" }]
          tenants {
            research-lab { enabled = false }
            "acme.eu" { patterns = ["Project [A-Z]+"] }
          }
        }"""));
    assertEquals(new RedactionSettings.CustomPattern("dalang.redaction.patterns[0]", "ACME-[0-9]{6}", null), s.patterns().get(0));
    assertEquals(new RedactionSettings.CustomPattern("codename", "(?i)bluebird", "[codename]"), s.patterns().get(1));
    assertEquals(Boolean.FALSE, s.tenants().get("research-lab").enabled());
    assertEquals(null, s.tenants().get("acme.eu").enabled());
    var r = Redactor.of(s, new KnownSecrets(1));
    assertEquals("[redacted] [codename] [redacted]", r.redactForTenant("acme.eu", "ACME-123456 BlueBird Project X"));
    assertEquals("ACME-123456 BlueBird jane@example.com", r.redactForTenant("research-lab", "ACME-123456 BlueBird jane@example.com"));
  }

  @Test
  void aPatternThatIsNeitherStringNorObjectIsAConfigError() {
    assertThrows(ConfigException.WrongType.class, () -> RedactionConfig.read(ConfigFactory.parseString(
        "dalang.redaction { enabled = true, patterns = [42], tenants {} }")));
  }
}
