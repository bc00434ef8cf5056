package io.dalang.runtime.determinism;

import io.dalang.runtime.determinism.DeterminismReport.Divergence;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Byte-for-byte comparison of two generations: where the first differs from the second. */
final class StreamDiff {
  /** How much of each side a divergence quotes, from the point where they differ. */
  static final int SNIPPET = 24;

  private StreamDiff() {}

  /** The first difference between two streams of content pieces; null when they are identical. */
  static Divergence pieces(String run, List<String> expected, List<String> actual) {
    if (expected.equals(actual)) return null;
    int n = Math.min(expected.size(), actual.size());
    int token = 0;
    while (token < n && expected.get(token).equals(actual.get(token))) token++;
    long at = firstDifferentByte(String.join("", expected), String.join("", actual));
    return new Divergence(run, "stream", token, at, piece(expected, token), piece(actual, token));
  }

  /** The first difference between two whole texts, placed in the reference's pieces; null when equal. */
  static Divergence text(String run, List<String> referencePieces, String actual) {
    String expected = String.join("", referencePieces);
    long at = firstDifferentByte(expected, actual);
    if (at < 0) return null;
    return new Divergence(run, "text", pieceAt(referencePieces, at), at, from(expected, at), from(actual, at));
  }

  /** The first byte at which the UTF-8 forms of two strings differ (the shorter one's length if it is a prefix); -1 if equal. */
  static long firstDifferentByte(String a, String b) {
    byte[] x = a.getBytes(StandardCharsets.UTF_8);
    byte[] y = b.getBytes(StandardCharsets.UTF_8);
    return Arrays.mismatch(x, y);
  }

  /** Which piece holds byte {@code offset} of their concatenation; the piece count when it lies beyond. */
  static int pieceAt(List<String> pieces, long offset) {
    long end = 0;
    for (int i = 0; i < pieces.size(); i++) {
      end += pieces.get(i).getBytes(StandardCharsets.UTF_8).length;
      if (offset < end) return i;
    }
    return pieces.size();
  }

  private static String piece(List<String> pieces, int i) {
    return i < pieces.size() ? pieces.get(i) : null;
  }

  /** Up to {@link #SNIPPET} bytes of {@code s} from byte {@code offset}, decoded leniently; null past its end. */
  private static String from(String s, long offset) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (offset >= b.length) return null;
    int start = (int) offset;
    return new String(b, start, Math.min(SNIPPET, b.length - start), StandardCharsets.UTF_8);
  }
}
