package io.dalang.actors.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.redaction.Redaction;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SecretValueTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final String PLAIN = "sk-value-test-0123456789abcdef";

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void printsAsRedacted() {
    var v = SecretValue.of(PLAIN);
    assertEquals("[REDACTED]", v.toString());
    assertEquals("wrapped: [REDACTED]", "wrapped: " + v);
    assertFalse(Map.of("key", v).toString().contains(PLAIN));
  }

  @Test
  void jacksonRefusesToWriteItEvenInsideAnotherValue() {
    var v = SecretValue.of(PLAIN);
    for (ObjectMapper mapper : new ObjectMapper[] {new ObjectMapper(), new CBORMapper()}) {
      assertThrows(JsonProcessingException.class, () -> mapper.writeValueAsBytes(v));
      assertThrows(JsonProcessingException.class, () -> mapper.writeValueAsBytes(Map.of("key", v)));
    }
  }

  @Test
  void pekkoWillNotSerializeItForTheJournalOrAnotherNode() {
    var serialization = SerializationExtension.get(testKit.system().classicSystem());
    assertTrue(serialization.serialize(SecretValue.of(PLAIN)).isFailure());
  }

  @Test
  void theLogRedactorScrubsAValueOnceItExisted() {
    String provider = "provider-key-of-no-known-shape-42";
    var v = SecretValue.of(provider);
    assertEquals("upstream rejected [secret]", Redaction.current().redact("upstream rejected " + v.asString()));
  }

  @Test
  void useHandsOutACopyAndDestroyClearsTheValue() {
    var v = SecretValue.of(PLAIN);
    byte[][] seen = new byte[1][];
    assertEquals(PLAIN.length(), (int) v.use(b -> {
      seen[0] = b;
      return b.length;
    }));
    assertTrue(allZero(seen[0]), "the copy handed to use() is cleared afterwards");
    v.destroy();
    assertTrue(v.isDestroyed());
    assertThrows(IllegalStateException.class, v::bytes);
  }

  static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) return false;
    }
    return true;
  }
}
