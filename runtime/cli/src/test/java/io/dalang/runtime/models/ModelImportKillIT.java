package io.dalang.runtime.models;

import static io.dalang.runtime.testing.DalangProcess.freePort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dalang.engine.Digests;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.DalangProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Atomic registration under {@code kill -9}, with a real {@code dalang serve} JVM: an import from a throttled
 * origin is killed while it copies. What the kill leaves is only the download's partial file (no blob named by
 * the digest, no temp file); after a restart on the same data dir the model has no version, and the same
 * import started again resumes the partial with a {@code Range} request and registers exactly one version
 * whose blob hashes to the file's digest. An import whose {@code sha256} is wrong (from a URL and from a file)
 * fails and leaves neither a version nor a blob nor a temp or partial file. Steps in one method: each builds
 * on the last.
 */
class ModelImportKillIT {
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  static final Duration IMPORT_TIMEOUT = Duration.ofSeconds(90);
  static final String CONF = """
      dalang.demo.replicas = 0
      dalang.demo.embed-pool = ""
      """;

  @TempDir Path dir;
  Path data;
  Path big;
  Path small;
  HttpServer origin;
  ExecutorService originThreads;
  final List<String> rangesSeen = new CopyOnWriteArrayList<>();
  /** While set, the origin sends 16 KiB every 10 ms: the big file takes seconds, time enough to kill mid-copy. */
  final AtomicBoolean throttled = new AtomicBoolean(true);
  final List<Process> processes = new ArrayList<>();
  int httpPort;

  @BeforeEach
  void start() throws Exception {
    data = dir.resolve("data");
    big = dir.resolve("origin").resolve("big.gguf");
    small = dir.resolve("origin").resolve("small.gguf");
    TinyModel.write(new TinyModel.Spec(21, 4, 256, 4, 4, 512, 2048, GgmlType.F32), big);
    TinyModel.write(new TinyModel.Spec(22, 2, 64, 4, 4, 128, 2048, GgmlType.F32), small);
    Files.writeString(dir.resolve("node.conf"), CONF);
    originThreads = Executors.newCachedThreadPool();
    origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    origin.createContext("/big.gguf", ex -> serve(ex, big, true));
    origin.createContext("/small.gguf", ex -> serve(ex, small, false));
    origin.setExecutor(originThreads); // a handler parked in its throttle must not hold up the next request
    origin.start();
    httpPort = freePort();
  }

  @AfterEach
  void stop() throws Exception {
    for (Process p : processes) p.destroy();
    for (Process p : processes) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    if (origin != null) origin.stop(0);
    if (originThreads != null) originThreads.shutdownNow();
  }

  @Test
  void aKilledImportRegistersNothingResumesItsPartialAfterARestartAndAWrongDigestLeavesNoTrace() throws Exception {
    try {
      String digest = Digests.sha256(big);
      long total = Files.size(big);

      // 1. The import copies from the throttled origin; the JVM is killed in the middle.
      Process first = serve("serve-1");
      ApiClient admin = awaitStarted(first);
      String id = accepted(admin.post("/admin/v1/models", importBody("big", "/big.gguf", digest)));
      JsonNode copying = awaitCopying(admin, first, id);
      first.destroyForcibly(); // SIGKILL: no shutdown hook, no cleanup, the transfer cut mid-body
      assertTrue(first.waitFor(30, TimeUnit.SECONDS), "the killed node exited");
      throttled.set(false);

      // 2. On disk: only the partial, holding a strict prefix; no blob named by the digest, no temp file.
      Path models = data.resolve("models");
      assertFalse(Files.exists(models.resolve("sha256").resolve(digest)), "no blob for a half-copied file");
      assertEquals(List.of(), list(models.resolve("sha256")), "nothing in the blob store");
      assertEquals(List.of(), list(models.resolve("tmp")), "no temp file");
      Path partial = models.resolve("partial").resolve(digest);
      assertTrue(Files.isRegularFile(partial), "the cut download left its partial: " + list(models.resolve("partial")));
      long cut = Files.size(partial);
      assertTrue(cut > 0 && cut < total, "the partial is a strict prefix: " + cut + " of " + total + " (import said " + copying + ")");
      assertEquals(List.of(partial.getFileName().toString()), list(models.resolve("partial")), "one partial, named by the digest");

      // 3. Restarted on the same data dir: the model has no version, half-registered or otherwise.
      Process second = serve("serve-2");
      admin = awaitStarted(second);
      assertEquals(404, admin.get("/admin/v1/models/big").statusCode(), "no version of a model whose import was killed");
      assertEquals(404, admin.get("/admin/v1/model-imports/" + id).statusCode(), "imports are this process's; the old one is gone");

      // 4. The same import again: it resumes the partial where it stopped and registers exactly one version.
      int before = rangesSeen.size();
      JsonNode done = awaitImport(admin, second, accepted(admin.post("/admin/v1/models", importBody("big", "/big.gguf", digest))));
      assertEquals("done", done.path("status").asText(), done.toString());
      assertEquals("v1", done.path("version").asText(), done.toString());
      assertEquals(digest, done.path("sha256").asText());
      assertEquals(total, done.path("bytes_done").asLong());
      List<String> resumed = rangesSeen.subList(before, rangesSeen.size());
      assertEquals("bytes=" + cut + "-", resumed.get(0), "the retry asked for the rest of the partial: " + resumed);
      Path blob = models.resolve("sha256").resolve(digest);
      assertTrue(Files.isRegularFile(blob), "the blob is stored under its digest");
      assertEquals(digest, Digests.sha256(blob), "the stored blob holds the file's bytes");
      assertEquals(total, Files.size(blob));
      assertFalse(Files.exists(partial), "the partial became the blob");
      assertEquals(List.of(), list(models.resolve("tmp")));
      JsonNode versions = versions(admin, "big");
      assertEquals(1, versions.size(), "exactly one version: " + versions);
      assertEquals("v1", versions.get(0).path("version").asText());
      assertEquals(digest, versions.get(0).path("sha256").asText());

      // 5. A wrong sha256, from a URL and from a file: both transfers complete, both imports fail, nothing is left.
      String smallDigest = Digests.sha256(small);
      String wrong = Digests.sha256("not the small file");
      JsonNode fromUrl = awaitImport(admin, second, accepted(admin.post("/admin/v1/models", importBody("small", "/small.gguf", wrong))));
      assertEquals("failed", fromUrl.path("status").asText(), fromUrl.toString());
      JsonNode fromFile = awaitImport(admin, second, accepted(admin.post("/admin/v1/models",
          "{\"name\": \"small\", \"from\": \"" + small + "\", \"sha256\": \"" + wrong + "\"}")));
      assertEquals("failed", fromFile.path("status").asText(), fromFile.toString());
      assertEquals(404, admin.get("/admin/v1/models/small").statusCode(), "no version from a wrong digest");
      assertFalse(Files.exists(models.resolve("sha256").resolve(smallDigest)), "no blob under the actual digest");
      assertFalse(Files.exists(models.resolve("sha256").resolve(wrong)), "no blob under the claimed digest");
      assertEquals(List.of(digest), list(models.resolve("sha256")), "only big's blob is stored");
      assertEquals(List.of(), list(models.resolve("tmp")), "the file import's temp file is gone");
      assertEquals(List.of(), list(models.resolve("partial")), "the wrong download's partial is gone: its bytes would only be wrong again");
      assertEquals(1, versions(admin, "big").size(), "big still has its one version");
      System.out.printf("import kill test: killed at %d of %d bytes (import said %d), origin saw ranges %s%n", cut, total,
          copying.path("bytes_done").asLong(), rangesSeen);
    } catch (Throwable t) {
      dumpLogs();
      throw t;
    }
  }

  /** Serves a file with {@code Range: bytes=N-} support (206 + Content-Range), throttled when asked, recording each Range header. */
  private void serve(HttpExchange ex, Path file, boolean throttle) throws IOException {
    try (ex) {
      byte[] bytes = Files.readAllBytes(file);
      String range = ex.getRequestHeaders().getFirst("Range");
      if (throttle) rangesSeen.add(range == null ? "-" : range);
      int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
      if (from > 0) {
        ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
        ex.sendResponseHeaders(206, bytes.length - from);
      } else {
        ex.sendResponseHeaders(200, bytes.length);
      }
      var out = ex.getResponseBody();
      for (int at = from; at < bytes.length; ) {
        int n = Math.min(16 * 1024, bytes.length - at);
        out.write(bytes, at, n);
        out.flush();
        at += n;
        if (throttle && throttled.get()) Thread.sleep(10);
      }
    } catch (IOException cut) {
      // the node was killed mid-body
    } catch (InterruptedException stopping) {
      Thread.currentThread().interrupt(); // the test is over
    }
  }

  private String importBody(String name, String path, String sha256) {
    return "{\"name\": \"" + name + "\", \"from\": \"http://127.0.0.1:" + origin.getAddress().getPort() + path + "\", \"sha256\": \""
        + sha256 + "\", \"allow_private\": true}";
  }

  private static String accepted(java.net.http.HttpResponse<String> r) throws IOException {
    assertEquals(202, r.statusCode(), r.body());
    return ApiClient.json(r.body()).get("id").asText();
  }

  /** Waits until the import is copying with some, not all, bytes done. */
  private static JsonNode awaitCopying(ApiClient admin, Process node, String id) throws Exception {
    long deadline = System.nanoTime() + IMPORT_TIMEOUT.toNanos();
    JsonNode v = null;
    while (System.nanoTime() < deadline) {
      assertTrue(node.isAlive(), "the node exited");
      v = ApiClient.json(admin.get("/admin/v1/model-imports/" + id).body());
      long done = v.path("bytes_done").asLong();
      if (v.path("status").asText().equals("copying") && done > 0 && done < v.path("bytes_total").asLong()) return v;
      assertFalse(v.path("status").asText().matches("verifying|done|failed"), "the import got past copying before the kill: " + v);
      Thread.sleep(20);
    }
    throw new AssertionError("import " + id + " did not start copying: " + v);
  }

  private static JsonNode awaitImport(ApiClient admin, Process node, String id) throws Exception {
    long deadline = System.nanoTime() + IMPORT_TIMEOUT.toNanos();
    JsonNode v = null;
    while (System.nanoTime() < deadline) {
      assertTrue(node.isAlive(), "the node exited");
      v = ApiClient.json(admin.get("/admin/v1/model-imports/" + id).body());
      String s = v.path("status").asText();
      if (s.equals("done") || s.equals("failed")) return v;
      Thread.sleep(100);
    }
    throw new AssertionError("import " + id + " did not finish: " + v);
  }

  private static JsonNode versions(ApiClient admin, String name) throws Exception {
    var r = admin.get("/admin/v1/models/" + name);
    assertEquals(200, r.statusCode(), r.body());
    return ApiClient.json(r.body()).path("versions");
  }

  private static List<String> list(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  // The process (as in ModelDistributionIT)

  /** {@code dalang serve} on the test's data dir and HTTP port, in a JVM of its own, its output in {@code <name>.log}. */
  private Process serve(String name) throws IOException {
    var args = List.of("serve", "--http-port", Integer.toString(httpPort), "--grpc-port", Integer.toString(freePort()),
        "--cluster-port", Integer.toString(freePort()), "--data-dir", data.toString(), "--config", dir.resolve("node.conf").toString());
    Process p = DalangProcess.start(dir, name, args, java.util.Map.of("DALANG_DEMO_KEY", "kill-it-" + Long.toHexString(System.nanoTime())));
    processes.add(p);
    return p;
  }

  /** Waits until the node answers and its catalog does (the model entity's shard is up); returns an admin client. */
  private ApiClient awaitStarted(Process node) throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      assertTrue(node.isAlive(), "the node exited");
      Path key = data.resolve("admin.key");
      if (Files.exists(key)) {
        try {
          var admin = new ApiClient(httpPort, Files.readString(key).strip());
          int status = admin.get("/admin/v1/models/nothing-here").statusCode();
          if (status == 404) return admin;
        } catch (IOException e) {
          // not listening yet
        }
      }
      Thread.sleep(200);
    }
    fail("the node did not answer within " + START_TIMEOUT);
    return null;
  }


  private void dumpLogs() {
    for (String name : List.of("serve-1", "serve-2")) {
      Path log = dir.resolve(name + ".log");
      if (!Files.exists(log)) continue;
      try {
        List<String> lines = Files.readAllLines(log);
        System.out.println("----- " + name + " (last 150 lines) -----");
        lines.subList(Math.max(0, lines.size() - 150), lines.size()).forEach(System.out::println);
      } catch (IOException e) {
        System.out.println("----- " + name + ": unreadable log (" + e.getMessage() + ")");
      }
    }
  }
}
