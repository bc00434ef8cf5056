package io.dalang.actors.secrets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class SecretCipherTest {
  static final byte[] VALUE = "sk-test-plaintext-of-a-provider-key".getBytes(StandardCharsets.UTF_8);
  final MasterKey key = MasterKey.generate();
  final MasterKeys keys = MasterKeys.of(key);
  final SecretId id = new SecretId("acme", "providers", "openai", 3);

  SecretCryptoException fails(SecretCryptoException.Reason reason, Supplier<byte[]> open) {
    var e = assertThrows(SecretCryptoException.class, open::get);
    assertEquals(reason, e.reason());
    assertEquals(ErrorCode.INTERNAL, e.code());
    assertFalse(e.getMessage().contains("sk-test"), e.getMessage());
    return e;
  }

  @Test
  void roundTripsAndRecordsTheKeyId() {
    var sealed = SecretCipher.seal(key, id, VALUE);
    assertEquals(key.id(), sealed.keyId());
    assertEquals(12, sealed.nonce().length);
    assertEquals(VALUE.length + 16, sealed.ciphertext().length);
    assertArrayEquals(VALUE, SecretCipher.open(keys, id, sealed));
  }

  @Test
  void everyEncryptionUsesAFreshNonce() {
    var a = SecretCipher.seal(key, id, VALUE);
    var b = SecretCipher.seal(key, id, VALUE);
    assertNotEquals(a, b);
    assertFalse(java.util.Arrays.equals(a.nonce(), b.nonce()));
  }

  @Test
  void aChangedCiphertextOrNonceDoesNotDecrypt() {
    var sealed = SecretCipher.seal(key, id, VALUE);
    for (int i = 0; i < sealed.ciphertext().length; i += 7) {
      byte[] c = sealed.ciphertext().clone();
      c[i] ^= 1;
      fails(SecretCryptoException.Reason.TAMPERED, () -> SecretCipher.open(keys, id, new SecretCipher.Sealed(key.id(), sealed.nonce(), c)));
    }
    byte[] n = sealed.nonce().clone();
    n[0] ^= (byte) 0x80;
    fails(SecretCryptoException.Reason.TAMPERED, () -> SecretCipher.open(keys, id, new SecretCipher.Sealed(key.id(), n, sealed.ciphertext())));
  }

  @Test
  void aCiphertextMovedToAnotherSecretDoesNotDecrypt() {
    var sealed = SecretCipher.seal(key, id, VALUE);
    for (var other : new SecretId[] {new SecretId("other", "providers", "openai", 3), new SecretId("acme", "other", "openai", 3),
        new SecretId("acme", "providers", "anthropic", 3), new SecretId("acme", "providers", "openai", 4), SecretId.inTransit("acme", "providers", "openai")}) {
      var e = fails(SecretCryptoException.Reason.TAMPERED, () -> SecretCipher.open(keys, other, sealed));
      assertFalse(e.getMessage().isBlank());
    }
  }

  @Test
  void aKeyThisNodeLacksIsNamedByIdAndAWrongKeyUnderTheSameIdIsTamper() {
    var sealed = SecretCipher.seal(key, id, VALUE);
    var otherKeys = MasterKeys.of(MasterKey.generate());
    var e = fails(SecretCryptoException.Reason.UNKNOWN_KEY, () -> SecretCipher.open(otherKeys, id, sealed));
    assertTrue(e.getMessage().contains("master key " + key.id()), e.getMessage());
    var forged = new SecretCipher.Sealed(otherKeys.current().id(), sealed.nonce(), sealed.ciphertext());
    fails(SecretCryptoException.Reason.TAMPERED, () -> SecretCipher.open(otherKeys, id, forged));
  }

  @Test
  void aPreviousKeyStillDecryptsWhatItEncrypted() {
    var sealed = SecretCipher.seal(key, id, VALUE);
    assertArrayEquals(VALUE, SecretCipher.open(MasterKeys.of(MasterKey.generate(), key), id, sealed));
  }

  @Test
  void malformedCiphertextsAreTypedErrors() {
    fails(SecretCryptoException.Reason.MALFORMED, () -> SecretCipher.open(keys, id, new SecretCipher.Sealed(key.id(), new byte[8], new byte[40])));
    fails(SecretCryptoException.Reason.MALFORMED, () -> SecretCipher.open(keys, id, new SecretCipher.Sealed(key.id(), new byte[12], new byte[3])));
  }
}
