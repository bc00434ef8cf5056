package io.dalang.actors.model;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Short-lived tokens that let a node fetch one blob over a control node's HTTP port. A node gets one
 * only by asking the {@link BlobServer} over the cluster transport (mutually authenticated TLS), so a
 * token proves that the fetch comes from a cluster member; it names one digest and expires. The key is
 * random and lives only in this process: a restart invalidates every token, and a node just asks again.
 *
 * <p>Form: {@code <expiry epoch seconds>.<hex HMAC-SHA256 of "sha256|expiry">}.
 */
public final class BlobTokens {
  private final byte[] key = new byte[32];

  public BlobTokens() {
    new SecureRandom().nextBytes(key);
  }

  public String issue(String sha256, Duration ttl, Instant now) {
    long expiry = now.plus(ttl).getEpochSecond();
    return expiry + "." + mac(sha256 + "|" + expiry);
  }

  /** Whether {@code token} was issued here for {@code sha256} and has not expired at {@code now}. */
  public boolean valid(String token, String sha256, Instant now) {
    if (token == null || token.length() > 128) return false;
    int dot = token.indexOf('.');
    if (dot <= 0) return false;
    long expiry;
    try {
      expiry = Long.parseLong(token.substring(0, dot));
    } catch (NumberFormatException e) {
      return false;
    }
    if (now.getEpochSecond() > expiry) return false;
    byte[] expected = mac(sha256 + "|" + expiry).getBytes(StandardCharsets.US_ASCII);
    return MessageDigest.isEqual(expected, token.substring(dot + 1).getBytes(StandardCharsets.US_ASCII));
  }

  private String mac(String text) {
    try {
      Mac m = Mac.getInstance("HmacSHA256");
      m.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(m.doFinal(text.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has HmacSHA256", e);
    }
  }
}
