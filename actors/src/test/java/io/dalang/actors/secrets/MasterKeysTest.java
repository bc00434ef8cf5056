package io.dalang.actors.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterKeysTest {
  @TempDir Path dir;

  static String randomKey() {
    byte[] b = new byte[32];
    new java.security.SecureRandom().nextBytes(b);
    return Base64.getEncoder().encodeToString(b);
  }

  SecretsSettings settings() {
    return SecretsSettings.from(ConfigFactory.load(), dir);
  }

  @Test
  void createsAnOwnerOnlyKeyFileOnFirstUseAndReadsItAfterwards() throws Exception {
    var first = MasterKeys.load(settings(), Map.of());
    Path file = dir.resolve("master.key");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals(32, Base64.getDecoder().decode(Files.readString(file).strip()).length);
    var second = MasterKeys.load(settings(), Map.of());
    assertEquals(first.current().id(), second.current().id());
    assertTrue(first.current().id().matches("[0-9a-f]{8}"), first.current().id());
    assertTrue(first.previous().isEmpty());
  }

  @Test
  void theEnvironmentWinsOverTheFile() throws Exception {
    MasterKeys.load(settings(), Map.of());
    String env = randomKey();
    var keys = MasterKeys.load(settings(), Map.of(MasterKeys.ENV_CURRENT, env));
    assertEquals(MasterKey.fromBase64(env, "test").id(), keys.current().id());
  }

  @Test
  void aPreviousKeyComesFromTheEnvironmentOrAConfiguredFile() throws Exception {
    String current = randomKey();
    String previous = randomKey();
    var fromEnv = MasterKeys.load(settings(), Map.of(MasterKeys.ENV_CURRENT, current, MasterKeys.ENV_PREVIOUS, previous));
    String previousId = MasterKey.fromBase64(previous, "test").id();
    assertEquals(previousId, fromEnv.previous().orElseThrow().id());
    assertTrue(fromEnv.byId(previousId).isPresent());

    Files.writeString(dir.resolve("old.key"), previous + "\n");
    var config = ConfigFactory.parseString("dalang.secrets.previous-master-key-file = old.key").withFallback(ConfigFactory.load());
    var fromFile = MasterKeys.load(SecretsSettings.from(config, dir), Map.of(MasterKeys.ENV_CURRENT, current));
    assertEquals(previousId, fromFile.previous().orElseThrow().id());
    assertTrue(fromFile.byId("00000000").isEmpty());
  }

  @Test
  void aMissingPreviousKeyFileIsAnError() {
    var config = ConfigFactory.parseString("dalang.secrets.previous-master-key-file = gone.key").withFallback(ConfigFactory.load());
    assertThrows(java.io.IOException.class, () -> MasterKeys.load(SecretsSettings.from(config, dir), Map.of()));
  }

  @Test
  void aBadKeyIsATypedErrorThatNeverQuotesIt() {
    String notBase64 = "not base64 at all! secret-ish-text";
    var e = assertThrows(DalangException.class, () -> MasterKeys.load(settings(), Map.of(MasterKeys.ENV_CURRENT, notBase64)));
    assertEquals(ErrorCode.INTERNAL, e.code());
    assertTrue(e.getMessage().contains(MasterKeys.ENV_CURRENT), e.getMessage());
    assertFalse(e.getMessage().contains("secret-ish") || e.getMessage().contains("!"), e.getMessage());
    assertEquals(null, e.getCause());
    String short16 = Base64.getEncoder().encodeToString(new byte[16]);
    var tooShort = assertThrows(DalangException.class, () -> MasterKey.fromBase64(short16, "file k"));
    assertTrue(tooShort.getMessage().contains("32 bytes"), tooShort.getMessage());
  }

  @Test
  void keysShowOnlyTheirIds() {
    String b64 = randomKey();
    var key = MasterKey.fromBase64(b64, "test");
    assertEquals("MasterKey[" + key.id() + "]", key.toString());
    assertFalse(MasterKeys.of(key).toString().contains(b64));
    assertNotEquals(key.id(), MasterKey.generate().id());
  }
}
