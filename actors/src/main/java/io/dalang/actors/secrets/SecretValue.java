package io.dalang.actors.secrets;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import io.dalang.protocols.redaction.KnownSecrets;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;
import javax.security.auth.Destroyable;

/**
 * A secret in clear, inside this JVM only. It exists so that a value cannot leak by accident:
 * {@link #toString()} is {@code [REDACTED]}, Jackson refuses to serialize it, it is neither
 * {@code CborSerializable} nor {@code Serializable} (so Pekko will not send it to another node or write
 * it to the journal), and every textual value is remembered in {@link KnownSecrets#GLOBAL}, so the log
 * layout scrubs it even from a third-party error message that quotes it. Take the value out only where
 * it is used ({@link #use}), and {@link #destroy()} it after.
 */
@JsonSerialize(using = SecretValue.Refused.class)
public final class SecretValue implements Destroyable {
  private final byte[] bytes;
  private volatile boolean destroyed;

  private SecretValue(byte[] bytes) {
    this.bytes = bytes;
    remember(bytes);
  }

  public static SecretValue of(String value) {
    return new SecretValue(value.getBytes(StandardCharsets.UTF_8));
  }

  /** A copy of {@code value}; the caller may clear its array. */
  public static SecretValue of(byte[] value) {
    return new SecretValue(value.clone());
  }

  /** Takes {@code value} without a copy: for freshly decrypted bytes nobody else holds. */
  static SecretValue adopt(byte[] value) {
    return new SecretValue(value);
  }

  private static void remember(byte[] bytes) {
    try {
      String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
      KnownSecrets.GLOBAL.remember(text);
    } catch (CharacterCodingException e) {
      // binary: it cannot appear as such in a log line
    }
  }

  /** Applies {@code f} to a copy of the bytes, which is cleared afterwards. */
  public <T> T use(Function<byte[], T> f) {
    byte[] copy = bytes();
    try {
      return f.apply(copy);
    } finally {
      Arrays.fill(copy, (byte) 0);
    }
  }

  /** A copy of the bytes; clear it when done. */
  public byte[] bytes() {
    if (destroyed) throw new IllegalStateException("the secret value was destroyed");
    return bytes.clone();
  }

  /** The value as UTF-8 text, for APIs that only take strings (an HTTP header). */
  public String asString() {
    return new String(bytes(), StandardCharsets.UTF_8);
  }

  public int length() {
    return bytes.length;
  }

  /** Overwrites the bytes; any later access fails. */
  @Override
  public void destroy() {
    Arrays.fill(bytes, (byte) 0);
    destroyed = true;
  }

  @Override
  public boolean isDestroyed() {
    return destroyed;
  }

  @Override
  public String toString() {
    return "[REDACTED]";
  }

  /** Jackson: a secret value is never written, whatever mapper is asked to. */
  public static final class Refused extends StdSerializer<SecretValue> {
    private static final long serialVersionUID = 1L;

    public Refused() {
      super(SecretValue.class);
    }

    @Override
    public void serialize(SecretValue value, JsonGenerator gen, SerializerProvider provider) throws JsonMappingException {
      throw JsonMappingException.from(gen, "a SecretValue is never serialized");
    }
  }
}
