package io.dalang.actors.secrets;

import io.dalang.protocols.CborSerializable;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;

/**
 * AES-256-GCM for tenant secrets: a fresh random 96-bit nonce per encryption, a 128-bit tag, and the
 * {@link SecretId} (tenant, namespace, name, version) as additional authenticated data, so a ciphertext
 * only decrypts as the secret it was written for. Random nonces are safe far beyond the number of
 * secrets a cluster holds (the GCM limit is 2^32 encryptions per key).
 */
public final class SecretCipher {
  static final int NONCE_BYTES = 12;
  static final int TAG_BITS = 128;
  private static final String TRANSFORMATION = "AES/GCM/NoPadding";
  private static final byte[] AAD_LABEL = "dalang-secret-v1".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  private static final SecureRandom RANDOM = new SecureRandom();

  private SecretCipher() {}

  /**
   * A ciphertext and what is needed to decrypt it besides the key: the key's id and the nonce. Carries
   * no plaintext, so it may go into events, snapshots and messages between nodes.
   *
   * @param ciphertext the encrypted value followed by the 16-byte tag
   */
  public record Sealed(String keyId, byte[] nonce, byte[] ciphertext) implements CborSerializable {
    @Override
    public boolean equals(Object o) {
      return o instanceof Sealed s && s.keyId.equals(keyId) && Arrays.equals(s.nonce, nonce) && Arrays.equals(s.ciphertext, ciphertext);
    }

    @Override
    public int hashCode() {
      return keyId.hashCode() * 31 + Arrays.hashCode(ciphertext);
    }

    @Override
    public String toString() {
      return "Sealed[key " + keyId + ", " + ciphertext.length + " bytes]";
    }
  }

  /** Encrypts {@code plaintext} as {@code id} under {@code key}. */
  public static Sealed seal(MasterKey key, SecretId id, byte[] plaintext) {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    try {
      Cipher c = Cipher.getInstance(TRANSFORMATION);
      c.init(Cipher.ENCRYPT_MODE, key.secretKey(), new GCMParameterSpec(TAG_BITS, nonce));
      c.updateAAD(aad(id));
      return new Sealed(key.id(), nonce, c.doFinal(plaintext));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available in this JVM", e);
    }
  }

  /**
   * Decrypts {@code sealed} as {@code id} with whichever of {@code keys} has its key id.
   *
   * @throws SecretCryptoException if this process lacks the key, or the ciphertext, nonce or binding
   *     was changed
   */
  public static byte[] open(MasterKeys keys, SecretId id, Sealed sealed) {
    if (sealed == null || sealed.nonce() == null || sealed.nonce().length != NONCE_BYTES || sealed.ciphertext() == null
        || sealed.ciphertext().length < TAG_BITS / 8) {
      throw new SecretCryptoException(SecretCryptoException.Reason.MALFORMED, "secret " + id + " is not a valid ciphertext");
    }
    MasterKey key = keys.byId(sealed.keyId()).orElseThrow(() -> new SecretCryptoException(SecretCryptoException.Reason.UNKNOWN_KEY,
        "secret " + id + " is encrypted under master key " + sealed.keyId() + ", which this node does not have (current "
            + keys.current().id() + keys.previous().map(p -> ", previous " + p.id()).orElse("") + ")"));
    try {
      Cipher c = Cipher.getInstance(TRANSFORMATION);
      c.init(Cipher.DECRYPT_MODE, key.secretKey(), new GCMParameterSpec(TAG_BITS, sealed.nonce()));
      c.updateAAD(aad(id));
      return c.doFinal(sealed.ciphertext());
    } catch (AEADBadTagException e) {
      throw new SecretCryptoException(SecretCryptoException.Reason.TAMPERED, "secret " + id
          + " does not decrypt under master key " + key.id() + ": it was changed or does not belong to this secret");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available in this JVM", e);
    }
  }

  /** Length-prefixed fields, so no two different ids give the same bytes. */
  static byte[] aad(SecretId id) {
    var bytes = new ByteArrayOutputStream(64);
    try (var out = new DataOutputStream(bytes)) {
      out.write(AAD_LABEL);
      out.writeUTF(id.tenant());
      out.writeUTF(id.namespace());
      out.writeUTF(id.name());
      out.writeInt(id.version());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
