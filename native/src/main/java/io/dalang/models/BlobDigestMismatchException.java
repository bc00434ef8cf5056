package io.dalang.models;

import java.io.IOException;

/**
 * A blob's bytes do not hash to the digest it was asked for. The bytes are gone by the time this is
 * thrown (temp or partial file deleted); retrying the same source gives the same answer, so it is not retried.
 */
public class BlobDigestMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  private final String expected;
  private final String actual;

  public BlobDigestMismatchException(String expected, String actual) {
    super("sha256 mismatch: expected " + head(expected) + "…, got " + head(actual) + "…");
    this.expected = expected;
    this.actual = actual;
  }

  public String expected() {
    return expected;
  }

  public String actual() {
    return actual;
  }

  /** The first 12 hex characters: enough to tell two digests apart in a log line. */
  static String head(String sha256) {
    return sha256 == null ? "null" : sha256.substring(0, Math.min(12, sha256.length()));
  }
}
