package io.dalang.models;

import java.io.IOException;

/**
 * A blob is not the size it was declared to be, or a download grew past its cap. Like a digest
 * mismatch it is a property of the source, not of the connection, so it is not retried.
 */
public class BlobSizeMismatchException extends IOException {
  private static final long serialVersionUID = 1L;

  public BlobSizeMismatchException(String message) {
    super(message);
  }

  public BlobSizeMismatchException(long expected, long actual) {
    this("size mismatch: expected " + expected + " bytes, got " + actual);
  }
}
