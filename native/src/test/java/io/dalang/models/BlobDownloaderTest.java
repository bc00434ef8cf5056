package io.dalang.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dalang.engine.Digests;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The downloader against a real JDK HTTP server on loopback: ranges, cuts, chunking, statuses and the
 * guards. The server answers {@code Range} itself (the JDK server does not), the way a CDN would.
 */
class BlobDownloaderTest {
  static final String TOKEN = "hf_secretToken123";
  static final byte[] DATA = bytes(300_000);
  static final String SHA = sha(DATA);
  static final int HALF = DATA.length / 2;

  @TempDir Path dir;
  HttpServer server;
  ExecutorService executor;
  BlobStore store;
  final List<String> ranges = new CopyOnWriteArrayList<>();
  final List<String> authorizations = new CopyOnWriteArrayList<>();
  final AtomicInteger cuts = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    store = new BlobStore(dir.resolve("store"));
    executor = Executors.newCachedThreadPool();
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(executor);
    server.createContext("/blob", this::serveWithRanges);
    server.createContext("/chunked", ex -> {
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        for (int i = 0; i < DATA.length; i += 7_000) out.write(DATA, i, Math.min(7_000, DATA.length - i));
      } catch (IOException readerGaveUp) {
        // the size cap test closes early: what it tests
      }
    });
    server.createContext("/redirect", ex -> {
      ex.getResponseHeaders().add("Location", "/blob");
      ex.sendResponseHeaders(302, -1);
      ex.close();
    });
    server.createContext("/forbidden", ex -> {
      byte[] body = ("token " + TOKEN + " is not allowed").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(403, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  /** Serves {@link #DATA}; a {@code Range: bytes=N-} gets a 206; the first {@link #cuts} full answers stop after half. */
  private void serveWithRanges(HttpExchange ex) throws IOException {
    String range = ex.getRequestHeaders().getFirst("Range");
    ranges.add(range == null ? "" : range);
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    authorizations.add(auth == null ? "" : auth);
    int from = range == null ? 0 : Integer.parseInt(range.substring("bytes=".length(), range.length() - 1));
    if (from > 0) {
      ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (DATA.length - 1) + "/" + DATA.length);
      ex.sendResponseHeaders(206, DATA.length - from);
    } else {
      ex.sendResponseHeaders(200, DATA.length);
    }
    OutputStream out = ex.getResponseBody();
    if (from == 0 && cuts.getAndDecrement() > 0) {
      out.write(DATA, 0, HALF);
      out.flush();
      // Thrown out of the handler, this makes the JDK server drop the connection mid-body: a cut.
      throw new IOException("cut");
    }
    out.write(DATA, from, DATA.length - from);
    out.close();
  }

  private String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  private BlobDownloader.Request request(String path, String sha, long size) {
    return new BlobDownloader.Request(URI.create(url(path)), sha, size, null, true, null, 1L << 30);
  }

  private BlobDownloader downloader(int attempts) {
    return new BlobDownloader(store, Duration.ofSeconds(5), attempts);
  }

  @Test
  void downloadsABlobAndChecksItsDigest() throws Exception {
    var progress = new CopyOnWriteArrayList<long[]>();
    BlobStore.Stored stored = downloader(1).fetch(request("/blob", SHA, DATA.length), (done, total) -> progress.add(new long[] {done, total}));

    assertEquals(SHA, stored.sha256());
    assertEquals(DATA.length, stored.size());
    assertArrayEquals(DATA, Files.readAllBytes(store.pathOf(SHA)));
    assertFalse(Files.exists(store.partialFor(SHA)));
    assertEquals(List.of(""), ranges);
    long[] last = progress.get(progress.size() - 1);
    assertEquals(DATA.length, last[0]);
    assertEquals(DATA.length, last[1]);
  }

  @Test
  void aBlobAlreadyInTheStoreIsNotFetchedAgain() throws Exception {
    downloader(1).fetch(request("/blob", SHA, -1), null);
    BlobStore.Stored again = downloader(1).fetch(request("/blob", SHA, -1), null);
    assertEquals(SHA, again.sha256());
    assertEquals(1, ranges.size());
  }

  @Test
  void resumesACutTransferWithARangeRequest() throws Exception {
    cuts.set(1);

    BlobStore.Stored stored = downloader(3).fetch(request("/blob", SHA, DATA.length), null);

    assertEquals(SHA, stored.sha256());
    assertArrayEquals(DATA, Files.readAllBytes(stored.path()));
    assertEquals(List.of("", "bytes=" + HALF + "-"), ranges);
  }

  @Test
  void aStalledTransferTimesOutAndResumes() throws Exception {
    var stalls = new AtomicInteger(1);
    server.createContext("/stall", ex -> {
      if (stalls.getAndDecrement() > 0) {
        ex.sendResponseHeaders(200, DATA.length);
        OutputStream out = ex.getResponseBody();
        out.write(DATA, 0, HALF);
        out.flush();
        try {
          Thread.sleep(10_000); // silent: the reader's timeout must end this, not the server
        } catch (InterruptedException stopped) {
          Thread.currentThread().interrupt();
        }
        throw new IOException("stalled");
      }
      serveWithRanges(ex);
    });

    var r = request("/stall", SHA, DATA.length);
    BlobStore.Stored stored = new BlobDownloader(store, Duration.ofMillis(500), 2).fetch(r, null);

    assertEquals(SHA, stored.sha256());
    assertEquals(List.of("bytes=" + HALF + "-"), ranges);
  }

  @Test
  void resumesThePartialAnEarlierDownloaderLeft() throws Exception {
    cuts.set(1);
    assertThrows(IOException.class, () -> downloader(1).fetch(request("/blob", SHA, DATA.length), null));
    assertEquals(HALF, Files.size(store.partialFor(SHA)));
    assertFalse(store.contains(SHA));

    BlobStore.Stored stored = downloader(1).fetch(request("/blob", SHA, DATA.length), null);

    assertEquals(SHA, stored.sha256());
    assertEquals(List.of("", "bytes=" + HALF + "-"), ranges);
    assertFalse(Files.exists(store.partialFor(SHA)));
  }

  @Test
  void withoutAnExpectedDigestAnEarlierPartialIsNotResumed() throws Exception {
    // The source may have changed between the two fetches: its old prefix and new rest would make a blob
    // nobody published, and no digest would tell. Within one fetch, attempts still resume.
    cuts.set(1);
    assertThrows(IOException.class, () -> downloader(1).fetch(request("/blob", null, -1), null));
    BlobStore.Stored stored = downloader(1).fetch(request("/blob", null, -1), null);
    assertEquals(SHA, stored.sha256());
    assertEquals(List.of("", ""), ranges);
  }

  @Test
  void aRangeThatStartsElsewhereRestartsFromZero() throws Exception {
    server.createContext("/shifted", ex -> {
      String range = ex.getRequestHeaders().getFirst("Range");
      ranges.add(range == null ? "" : range);
      if (range != null) {
        // Answers a range we did not ask for: its bytes must not be appended.
        ex.getResponseHeaders().add("Content-Range", "bytes 10-" + (DATA.length - 1) + "/" + DATA.length);
        ex.sendResponseHeaders(206, DATA.length - 10);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(DATA, 10, DATA.length - 10);
        }
        return;
      }
      ex.sendResponseHeaders(200, DATA.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(DATA);
      }
    });
    Files.write(store.partialFor(SHA), java.util.Arrays.copyOf(DATA, 1000));

    BlobStore.Stored stored = downloader(3).fetch(request("/shifted", SHA, DATA.length), null);

    assertEquals(SHA, stored.sha256());
    assertEquals(List.of("bytes=1000-", ""), ranges);
  }

  @Test
  void twoDownloadsOfDifferentBlobsRunSideBySide() throws Exception {
    var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> fetchQuietly(request("/blob", null, -1)), executor);
    var second = java.util.concurrent.CompletableFuture.supplyAsync(() -> fetchQuietly(request("/chunked", null, -1)), executor);
    assertEquals(SHA, first.get(30, java.util.concurrent.TimeUnit.SECONDS).sha256());
    assertEquals(SHA, second.get(30, java.util.concurrent.TimeUnit.SECONDS).sha256());
    assertEquals(1, store.list().size());
  }

  private BlobStore.Stored fetchQuietly(BlobDownloader.Request r) {
    try {
      return downloader(1).fetch(r, null);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void wrongDigestIsRefusedAndNothingIsStored() throws Exception {
    String wrong = "0".repeat(64);

    var e = assertThrows(BlobDigestMismatchException.class, () -> downloader(3).fetch(request("/blob", wrong, -1), null));

    assertEquals(SHA, e.actual());
    assertFalse(store.contains(wrong));
    assertEquals(List.of(), store.list());
    assertFalse(Files.exists(store.partialFor(wrong)));
    assertEquals(1, ranges.size(), "a digest mismatch is not retried");
  }

  @Test
  void bodyLongerThanTheExpectedSizeIsRefused() throws Exception {
    assertThrows(BlobSizeMismatchException.class, () -> downloader(3).fetch(request("/blob", null, DATA.length - 1), null));
    assertEquals(List.of(), store.list());
    assertEquals(1, ranges.size());
  }

  @Test
  void chunkedBodyPastTheCapIsCutOffAndRefused() throws Exception {
    var r = new BlobDownloader.Request(URI.create(url("/chunked")), null, -1, null, true, null, 10_000);

    var e = assertThrows(BlobSizeMismatchException.class, () -> downloader(3).fetch(r, null));

    assertTrue(e.getMessage().contains("10000"), e.getMessage());
    assertEquals(List.of(), store.list());
    assertFalse(Files.exists(store.partialFor(BlobDownloader.urlKey(r.url()))));
  }

  @Test
  void chunkedTransferIsDecoded() throws Exception {
    BlobStore.Stored stored = downloader(1).fetch(request("/chunked", null, -1), null);
    assertEquals(SHA, stored.sha256());
    assertArrayEquals(DATA, Files.readAllBytes(stored.path()));
  }

  @Test
  void redirectIsRefusedNotFollowed() throws Exception {
    var e = assertThrows(BlobHttpStatusException.class, () -> downloader(3).fetch(request("/redirect", SHA, -1), null));
    assertEquals(302, e.status());
    assertEquals("the server answered HTTP 302", e.getMessage());
    assertEquals(List.of(), ranges, "the redirect's target was never asked for");
  }

  @Test
  void loopbackIsRefusedWithoutAllowPrivate() throws Exception {
    var r = new BlobDownloader.Request(URI.create(url("/blob")), SHA, -1, null, false, null, 1L << 30);
    var e = assertThrows(BlobFetchRefusedException.class, () -> downloader(3).fetch(r, null));
    assertTrue(e.getMessage().contains("loopback"), e.getMessage());
    assertEquals(List.of(), ranges);
    assertFalse(Files.exists(store.partialFor(SHA)), "an empty partial is not left behind");
  }

  @Test
  void bearerTokenIsSentButNeverInAMessage() throws Exception {
    var r = new BlobDownloader.Request(URI.create(url("/blob")), SHA, -1, TOKEN, true, null, 1L << 30);
    downloader(1).fetch(r, null);
    assertEquals(List.of("Bearer " + TOKEN), authorizations);
    assertFalse(r.toString().contains(TOKEN));

    var forbidden = new BlobDownloader.Request(URI.create(url("/forbidden")), null, -1, TOKEN, true, null, 1L << 30);
    var e = assertThrows(BlobHttpStatusException.class, () -> downloader(3).fetch(forbidden, null));
    assertEquals(403, e.status());
    assertFalse(e.getMessage().contains(TOKEN));
    assertThrows(IllegalArgumentException.class,
        () -> new BlobDownloader.Request(URI.create(url("/blob")), null, -1, "x\r\nHost: evil", true, null, 1L << 30));
  }

  @Test
  void refusesUrlsThatAreNotPlainHttpOrHttps() {
    for (String bad : new String[] {"ftp://example.com/x", "file:///etc/passwd", "http://user:pw@example.com/x",
        "https://example.com/x#frag", "mailto:x@example.com", "/relative"}) {
      assertThrows(IllegalArgumentException.class,
          () -> new BlobDownloader.Request(URI.create(bad), null, -1, null, false, null, 1000), bad);
    }
  }

  static byte[] bytes(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) (i * 131 + (i >> 8));
    return b;
  }

  static String sha(byte[] b) {
    try {
      return Digests.sha256(new java.io.ByteArrayInputStream(b));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
