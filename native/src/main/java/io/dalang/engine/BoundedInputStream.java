package io.dalang.engine;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Fails a read past {@code max} bytes, so a remote server (a provider's stream, an upstream's
 * {@code /metrics}) cannot make Dalang read without end.
 */
final class BoundedInputStream extends FilterInputStream {
  private final long max;
  private long left;

  BoundedInputStream(InputStream in, long max) {
    super(in);
    this.max = max;
    this.left = max;
  }

  @Override
  public int read() throws IOException {
    int c = super.read();
    if (c >= 0) count(1);
    return c;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    int n = super.read(b, off, len);
    if (n > 0) count(n);
    return n;
  }

  private void count(int n) throws IOException {
    left -= n;
    if (left < 0) throw new IOException("the response is longer than " + max + " bytes");
  }
}
