package io.dalang.models;

import io.dalang.engine.Digests;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Downloads one blob over http(s) into a {@link BlobStore}, resuming interrupted transfers: the bytes
 * go to the store's partial file for the blob, which outlives a cut connection and the process, and the
 * next attempt asks for the rest with {@code Range}. Only a finished partial whose size and digest check
 * out becomes a blob ({@link BlobStore#commitPartial}).
 *
 * <p>A cut or a silent connection is weather and is retried, up to {@code maxAttempts} attempts in all;
 * a refused address or certificate, a 4xx or redirect, a wrong size or digest, and a body past the cap are
 * answers, and are not. The HTTP exchange itself is {@link HttpGet}'s, with its address and TLS guards.
 *
 * <p>One fetch per key at a time: the caller runs single-flight; a second process that tries the same key
 * finds the partial locked and fails rather than interleaving its bytes.
 */
public final class BlobDownloader {
  private static final long PROGRESS_EVERY_NANOS = Duration.ofMillis(100).toNanos();
  private static final Pattern PIN = Pattern.compile("[0-9a-f]{64}");

  private final BlobStore store;
  private final int timeoutMs;
  private final int maxAttempts;

  /**
   * One blob to fetch.
   *
   * @param url http or https, without user info or fragment
   * @param expectedSha256 null when unknown (then the digest is computed and the caller decides)
   * @param expectedSize -1 when unknown; when known a body that is longer fails at once
   * @param bearer sent as {@code Authorization: Bearer ...} when not null; never logged or put in an exception
   *     message (nor in this record's {@link #toString()})
   * @param allowPrivate whether loopback, private and link-local addresses may be reached; metadata addresses never
   * @param pinnedCertSha256 for https: when not null the server certificate is accepted iff the SHA-256 of its
   *     DER encoding equals it (hex, colons allowed), and no CA or host check is made; when null, the normal ones
   * @param maxBytes hard cap on the blob size
   */
  public record Request(URI url, String expectedSha256, long expectedSize, String bearer, boolean allowPrivate,
      String pinnedCertSha256, long maxBytes) {
    public Request {
      checkUrl(url);
      if (expectedSha256 != null) expectedSha256 = BlobStore.normalize(expectedSha256);
      if (expectedSize < -1) throw new IllegalArgumentException("expectedSize is -1 (unknown) or a size");
      if (maxBytes <= 0) throw new IllegalArgumentException("maxBytes must be positive");
      if (bearer != null && (bearer.isEmpty() || bearer.chars().anyMatch(c -> c < 0x21 || c > 0x7e))) {
        // A CR or LF would let a token inject headers; a token is printable ASCII without spaces.
        throw new IllegalArgumentException("a bearer token is printable ASCII without spaces");
      }
      if (pinnedCertSha256 != null) {
        pinnedCertSha256 = pinnedCertSha256.replace(":", "").toLowerCase(Locale.ROOT);
        if (!PIN.matcher(pinnedCertSha256).matches()) throw new IllegalArgumentException("a certificate pin is a SHA-256 in hex");
      }
    }

    /** Without the bearer token: a request may well end up in a log line. */
    @Override
    public String toString() {
      return "Request[url=" + url + ", expectedSha256=" + expectedSha256 + ", expectedSize=" + expectedSize
          + ", bearer=" + (bearer == null ? "none" : "***") + ", allowPrivate=" + allowPrivate
          + ", pinnedCertSha256=" + pinnedCertSha256 + ", maxBytes=" + maxBytes + "]";
    }

    /** The most bytes the body may have: the expected size when known, else the cap. */
    long limit() {
      return expectedSize >= 0 ? Math.min(expectedSize, maxBytes) : maxBytes;
    }
  }

  /** Told as bytes arrive (at most every 100 ms, and once at the end of each attempt). */
  public interface Progress {
    void update(long bytesDone, long bytesTotal /* -1 unknown */);
  }

  public BlobDownloader(BlobStore store, Duration ioTimeout, int maxAttempts) {
    if (maxAttempts < 1) throw new IllegalArgumentException("maxAttempts must be at least 1");
    this.store = store;
    this.timeoutMs = (int) Math.min(Integer.MAX_VALUE, Math.max(1, ioTimeout.toMillis()));
    this.maxAttempts = maxAttempts;
  }

  /**
   * Fetches the blob, or finds it when {@code expectedSha256} is already in the store. Attempts resume
   * where the last one stopped; with an expected digest, also from the partial file an earlier fetch or
   * process left.
   */
  public BlobStore.Stored fetch(Request r, Progress progress) throws IOException {
    if (r.expectedSha256() != null) {
      Optional<Path> present = store.find(r.expectedSha256());
      if (present.isPresent()) return new BlobStore.Stored(r.expectedSha256(), Files.size(present.get()), present.get());
    }
    if (r.expectedSize() > r.maxBytes()) {
      throw new BlobSizeMismatchException("the blob's " + r.expectedSize() + " bytes exceed the cap of " + r.maxBytes());
    }
    Path partial = store.partialFor(r.expectedSha256() != null ? r.expectedSha256() : urlKey(r.url()));
    try {
      download(r, partial, progress);
    } catch (BlobSizeMismatchException e) {
      // The server's bytes are not the blob's: resuming from them later would only be wrong again.
      Files.deleteIfExists(partial);
      throw e;
    } catch (PartialBusyException e) {
      throw e; // the partial is the other download's
    } catch (IOException e) {
      deleteIfEmpty(partial);
      throw e;
    }
    return store.commitPartial(partial, r.expectedSha256(), r.expectedSize());
  }

  /** The attempts, holding the partial's lock throughout; returns once a transfer ended where its framing said. */
  private void download(Request r, Path partial, Progress progress) throws IOException {
    try (FileChannel ch = FileChannel.open(partial, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE), store.fileAttributes())) {
      lock(ch, partial); // released when the channel closes
      // A partial left by an earlier fetch is resumed only when the digest will catch a source that changed
      // in between; without one, an old prefix and a new rest would make a blob nobody published.
      if (r.expectedSha256() == null) ch.truncate(0);
      for (int attempt = 1; ; attempt++) {
        try {
          transfer(r, ch, progress);
          return;
        } catch (IOException e) {
          if (!retriable(e) || attempt >= maxAttempts) throw e;
          backoff(attempt);
        }
      }
    }
  }

  /**
   * One attempt: asks for what the partial lacks and appends what comes. Returns when the body ended where
   * its framing said; throws on anything else.
   */
  private void transfer(Request r, FileChannel ch, Progress progress) throws IOException {
    long have = ch.size();
    if (have > r.limit()) {
      ch.truncate(0);
      have = 0;
    }
    if (r.expectedSize() >= 0 && have == r.expectedSize()) return; // finished before a crash, never committed
    try (HttpGet get = HttpGet.open(r.url(), have, r.bearer(), r.allowPrivate(), r.pinnedCertSha256(), timeoutMs)) {
      long start;
      long total;
      if (get.status() == 200) {
        start = 0;
        total = get.contentLength();
      } else if (get.status() == 206 && have > 0 && resumesAt(get.contentRange(), have)) {
        HttpGet.ContentRange range = get.contentRange();
        start = have;
        total = range.total();
        long length = get.contentLength();
        if (length >= 0 && length != range.last() - range.first() + 1) throw new IOException("the server's Content-Range and Content-Length disagree");
      } else if ((get.status() == 206 || get.status() == 416) && have > 0) {
        // A range we did not ask for, or the partial is no prefix the server knows: start over, on the next attempt.
        ch.truncate(0);
        throw new IOException("the server did not resume at byte " + have + "; starting over");
      } else {
        throw new BlobHttpStatusException(get.status());
      }
      if (total >= 0 && r.expectedSize() >= 0 && total != r.expectedSize()) throw new BlobSizeMismatchException(r.expectedSize(), total);
      if (total > r.maxBytes()) throw new BlobSizeMismatchException("the blob's " + total + " bytes exceed the cap of " + r.maxBytes());
      ch.truncate(start);
      long done = copy(get.body(), ch, start, r.limit(), total >= 0 ? total : r.expectedSize(), progress);
      if (total >= 0 && done != total) throw new IOException("the body ended at byte " + done + " of " + total);
    }
  }

  /** Whether a 206 carries exactly the rest we asked for: from {@code have} to the last byte. */
  private static boolean resumesAt(HttpGet.ContentRange range, long have) {
    return range != null && range.first() == have && (range.total() < 0 || range.last() == range.total() - 1);
  }

  /** Appends the body to the partial, failing at once when it runs past {@code limit}; returns the partial's new size. */
  private static long copy(InputStream body, FileChannel ch, long start, long limit, long total, Progress progress) throws IOException {
    byte[] buf = new byte[1 << 16];
    long done = start;
    long lastReport = System.nanoTime();
    ch.position(start);
    try {
      for (int n; (n = body.read(buf)) > 0; ) {
        if (done + n > limit) throw new BlobSizeMismatchException("the body is longer than " + limit + " bytes");
        BlobStore.writeFully(ch, ByteBuffer.wrap(buf, 0, n));
        done += n;
        if (progress != null && System.nanoTime() - lastReport >= PROGRESS_EVERY_NANOS) {
          progress.update(done, total);
          lastReport = System.nanoTime();
        }
      }
      return done;
    } finally {
      if (progress != null) progress.update(done, total);
    }
  }

  /** Whether another attempt could end differently: cuts and timeouts could, answers and refusals could not. */
  static boolean retriable(IOException e) {
    if (e instanceof BlobHttpStatusException s) return s.retriable();
    return !(e instanceof BlobFetchRefusedException || e instanceof BlobDigestMismatchException
        || e instanceof BlobSizeMismatchException || e instanceof BlobStoreFullException
        || e instanceof PartialBusyException || (e instanceof InterruptedIOException && Thread.currentThread().isInterrupted()));
  }

  /** The partial's key when no digest is known: the URL's hash, so the same URL resumes the same partial. */
  static String urlKey(URI url) {
    return Digests.sha256(url.toString()).substring(0, 32);
  }

  /** Only http and https, with a host, without user info (credentials go in {@code bearer}) or fragment. */
  static void checkUrl(URI url) {
    if (url == null) throw new IllegalArgumentException("a download needs a URL");
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) throw new IllegalArgumentException("a download URL is http or https");
    if (url.isOpaque() || url.getHost() == null || url.getHost().isEmpty()) throw new IllegalArgumentException("a download URL needs a host");
    if (url.getRawUserInfo() != null) throw new IllegalArgumentException("a download URL may not carry user info; use a bearer token");
    if (url.getRawFragment() != null) throw new IllegalArgumentException("a download URL may not have a fragment");
  }

  /** Another fetch (here or in another process) holds this partial. */
  static final class PartialBusyException extends IOException {
    private static final long serialVersionUID = 1L;

    PartialBusyException(Path partial) {
      super("another download is writing " + partial.getFileName());
    }
  }

  private static FileLock lock(FileChannel ch, Path partial) throws IOException {
    try {
      FileLock lock = ch.tryLock();
      if (lock != null) return lock;
    } catch (OverlappingFileLockException sameProcess) {
      // falls through: held by another fetch in this JVM
    }
    throw new PartialBusyException(partial);
  }

  /** A partial that holds nothing is nothing to resume: no litter for an attempt refused before its first byte. */
  private static void deleteIfEmpty(Path partial) {
    try {
      if (Files.size(partial) == 0) Files.delete(partial);
    } catch (IOException e) {
      // already gone, or not ours to judge: harmless either way
    }
  }

  private static void backoff(int attempt) throws InterruptedIOException {
    try {
      Thread.sleep(200L * attempt);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted between download attempts");
    }
  }
}
