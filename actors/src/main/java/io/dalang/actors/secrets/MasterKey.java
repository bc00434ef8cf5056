package io.dalang.actors.secrets;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * One 256-bit AES master key and its id. The id (8 hex characters of a SHA-256 of the key) is stored
 * beside every ciphertext, so a ciphertext says which key encrypted it and rotation knows what to
 * re-encrypt. Neither {@link #toString()} nor any error message ever shows the key itself.
 */
public final class MasterKey {
  static final int BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKey key;
  private final String id;

  private MasterKey(byte[] raw) {
    this.key = new SecretKeySpec(raw, "AES");
    this.id = idOf(raw);
    Arrays.fill(raw, (byte) 0);
  }

  /** A new random key. */
  public static MasterKey generate() {
    byte[] raw = new byte[BYTES];
    RANDOM.nextBytes(raw);
    return new MasterKey(raw);
  }

  /**
   * The key in {@code base64} (standard or URL alphabet, surrounding whitespace ignored).
   *
   * @param source where the text came from, named in the error (an environment variable or a file)
   * @throws DalangException {@code internal} if it is not base64 of exactly 32 bytes; the message never
   *     quotes the text
   */
  public static MasterKey fromBase64(String base64, String source) {
    String s = base64 == null ? "" : base64.strip();
    byte[] raw;
    try {
      raw = s.indexOf('-') >= 0 || s.indexOf('_') >= 0 ? Base64.getUrlDecoder().decode(s) : Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      // The decoder's own message quotes the offending character, a piece of the key: not passed on.
      throw new DalangException(ErrorCode.INTERNAL, "the master key in " + source + " is not valid base64");
    }
    if (raw.length != BYTES) {
      Arrays.fill(raw, (byte) 0);
      throw new DalangException(ErrorCode.INTERNAL,
          "the master key in " + source + " must be " + BYTES + " bytes (base64 of 32 random bytes), not " + raw.length);
    }
    return new MasterKey(raw);
  }

  /** Base64 of the key, only for writing a newly generated key to its file. */
  String toBase64() {
    return Base64.getEncoder().encodeToString(key.getEncoded());
  }

  public String id() {
    return id;
  }

  SecretKey secretKey() {
    return key;
  }

  private static String idOf(byte[] raw) {
    try {
      var sha = MessageDigest.getInstance("SHA-256");
      sha.update("dalang-master-key-id:".getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(sha.digest(raw), 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "MasterKey[" + id + "]";
  }
}
