package io.dalang.models;

import java.io.IOException;

/**
 * The downloader would not talk to the server: its address is of a class the request may not reach
 * (loopback, private, metadata, ...) or its certificate does not match the pinned fingerprint. The
 * message names the host and the reason, never a credential. Policy, not weather: never retried.
 */
public class BlobFetchRefusedException extends IOException {
  private static final long serialVersionUID = 1L;

  public BlobFetchRefusedException(String message) {
    super(message);
  }

  public BlobFetchRefusedException(String message, Throwable cause) {
    super(message, cause);
  }
}
