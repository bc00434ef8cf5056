package io.dalang.models;

import java.io.IOException;
import java.io.InputStream;

/**
 * The data of a {@code Transfer-Encoding: chunked} body. Size lines and trailers are bounded like the
 * head ({@link HttpGet#MAX_LINE}); a connection that closes before the last (zero-size) chunk fails the
 * read, so a cut chunked transfer is never mistaken for a complete one.
 */
final class ChunkedInputStream extends InputStream {
  private final InputStream in;
  private long left;
  private boolean done;

  ChunkedInputStream(InputStream in) {
    this.in = in;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) return 0;
    if (left == 0 && !nextChunk()) return -1;
    int n = in.read(b, off, (int) Math.min(len, left));
    if (n < 0) throw new IOException("the connection closed inside a chunk");
    left -= n;
    if (left == 0) endOfChunk();
    return n;
  }

  /** Reads the next size line; false (after reading the trailers) at the last chunk. */
  private boolean nextChunk() throws IOException {
    if (done) return false;
    String line = HttpGet.readLine(in);
    int semi = line.indexOf(';'); // chunk extensions: ignored
    String hex = (semi >= 0 ? line.substring(0, semi) : line).trim();
    try {
      if (hex.isEmpty() || hex.length() > 15) throw new NumberFormatException();
      left = Long.parseLong(hex, 16);
    } catch (NumberFormatException e) {
      throw new IOException("the server sent a malformed chunk size");
    }
    if (left > 0) return true;
    for (int i = 0; !HttpGet.readLine(in).isEmpty(); i++) {
      if (i >= HttpGet.MAX_HEADERS) throw new IOException("the server sent more than " + HttpGet.MAX_HEADERS + " trailers");
    }
    done = true;
    return false;
  }

  private void endOfChunk() throws IOException {
    if (!HttpGet.readLine(in).isEmpty()) throw new IOException("the server sent a chunk longer than its size");
  }
}
