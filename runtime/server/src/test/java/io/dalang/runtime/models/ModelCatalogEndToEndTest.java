package io.dalang.runtime.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.dalang.engine.Digests;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog on a running node, over loopback: a model added from a file and from an http URL whose
 * first transfer is cut (it resumes), a wrong digest and a non-model refused with nothing left in the
 * catalog, a pool that names a catalog version serving completions, and removal refused while a pool
 * serves the version.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelCatalogEndToEndTest {
  @TempDir static Path data;
  DalangNode node;
  ApiClient admin;
  ApiClient operator;
  ApiClient user;
  HttpServer origin;
  Path v1;
  Path v2;
  final List<String> rangesSeen = new CopyOnWriteArrayList<>();
  final AtomicBoolean cutNext = new AtomicBoolean(true);

  @BeforeAll
  void start() throws Exception {
    v1 = data.resolve("files").resolve("tiny-v1.gguf");
    v2 = data.resolve("files").resolve("tiny-v2.gguf");
    TinyModel.write(new TinyModel.Spec(7, 2, 64, 4, 4, 128, 8192, GgmlType.F32), v1);
    TinyModel.write(new TinyModel.Spec(8, 2, 64, 4, 4, 128, 8192, GgmlType.F16), v2);
    origin = origin(v2);
    Path conf = Files.writeString(data.resolve("node.conf"), "dalang.demo.embed-pool = \"\"\n");
    node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, 0, 0, conf, null, "cat-" + System.nanoTime()), System.out);
    admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("d").resolve("admin.key")).strip());
    var issued = ApiClient.json(admin.post("/admin/v1/platform/keys", "{\"key_id\": \"ops\", \"role\": \"operator\"}").body());
    operator = admin.withKey(issued.get("key").asText());
    user = admin.withKey(Files.readString(data.resolve("d").resolve("demo.key")).strip());
    admin.awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
    if (origin != null) origin.stop(0);
  }

  /** Serves {@code file} at /tiny.gguf with ranges; the first full transfer is cut halfway. */
  private HttpServer origin(Path file) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    var s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/tiny.gguf", ex -> {
      String range = ex.getRequestHeaders().getFirst("Range");
      rangesSeen.add(range == null ? "-" : range);
      int from = range == null ? 0 : Integer.parseInt(range.replaceAll("bytes=(\\d+)-.*", "$1"));
      if (from > 0) {
        ex.getResponseHeaders().add("Content-Range", "bytes " + from + "-" + (bytes.length - 1) + "/" + bytes.length);
        ex.sendResponseHeaders(206, bytes.length - from);
      } else {
        ex.sendResponseHeaders(200, bytes.length);
      }
      try (var out = ex.getResponseBody()) {
        if (from == 0 && cutNext.getAndSet(false)) {
          out.write(bytes, 0, bytes.length / 2);
          out.flush();
          ex.getHttpContext().getServer(); // keep the reference obvious: the exchange is dropped below
          throw new IOException("cut on purpose");
        }
        out.write(bytes, from, bytes.length - from);
      } catch (IOException cut) {
        ex.close();
      }
    });
    s.start();
    return s;
  }

  private String url() {
    return "http://127.0.0.1:" + origin.getAddress().getPort() + "/tiny.gguf";
  }

  @Test
  void addsFromAFileAndAResumedUrlServesAPoolOnACatalogVersionAndGuardsRemoval() throws Exception {
    // Only a platform-admin adds; an operator reads.
    assertEquals(403, operator.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + v1 + "\"}").statusCode());
    var first = awaitImport(accepted(admin.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + v1 + "\", \"labels\": {\"team\": \"search\"}}")));
    assertEquals("done", first.get("status").asText(), first.toString());
    assertEquals("v1", first.get("version").asText());
    assertEquals(Digests.sha256(v1), first.get("sha256").asText());

    // From a URL on loopback: refused unless allow_private; then resumed after the cut.
    var refused = awaitImport(accepted(admin.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + url() + "\"}")));
    assertEquals("failed", refused.get("status").asText());
    assertTrue(refused.get("error").asText().contains("loopback"), refused.toString());
    var second = awaitImport(accepted(admin.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + url() + "\", \"sha256\": \""
        + Digests.sha256(v2) + "\", \"allow_private\": true, \"parent\": \"F16 of tiny@v1\"}")));
    assertEquals("done", second.get("status").asText(), second.toString());
    assertEquals("v2", second.get("version").asText());
    assertTrue(rangesSeen.stream().anyMatch(r -> r.startsWith("bytes=")), "the cut transfer resumed with a Range request: " + rangesSeen);

    var model = ApiClient.json(operator.get("/admin/v1/models/tiny").body());
    assertEquals("v2", model.get("latest").asText());
    var versions = model.get("versions");
    assertEquals(2, versions.size());
    assertEquals("llama", versions.get(0).get("architecture").asText());
    assertEquals("F32", versions.get(0).get("quantization").asText());
    assertEquals("F16", versions.get(1).get("quantization").asText());
    assertEquals("search", versions.get(0).get("labels").get("team").asText());
    assertEquals("F16 of tiny@v1", versions.get(1).get("parent").asText());
    assertEquals("http://127.0.0.1:" + origin.getAddress().getPort() + "/tiny.gguf", versions.get(1).get("source").asText());
    assertTrue(versions.get(0).get("parameter_count").asLong() > 0);
    assertTrue(Files.isRegularFile(data.resolve("d").resolve("models").resolve("sha256").resolve(Digests.sha256(v2))));

    // A pool on the catalog version: its clients call it by the model's name.
    var pool = ApiClient.json(admin.post("/admin/v1/pools", "{\"id\": \"cat\", \"model\": \"tiny@v2\", \"parallel\": 2, "
        + "\"context_per_sequence\": 2048, \"threads\": 1}").body());
    assertEquals("tiny", pool.get("model_id").asText(), pool.toString());
    assertEquals("tiny@v2", pool.get("model").asText());
    assertEquals(Digests.sha256(v2), pool.get("model_digest").asText());
    assertEquals(200, admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"cat\"}").statusCode());
    awaitReady("cat");
    var completion = user.post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Hello\", \"max_tokens\": 3, \"temperature\": 0}");
    assertEquals(200, completion.statusCode(), completion.body());
    String runId = completion.headers().firstValue("x-dalang-run-id").orElseThrow();
    var record = user.awaitRun(runId, Duration.ofSeconds(10));
    assertEquals("tiny@v2", record.get("model_version").asText(), "the run record names the catalog version that served it");
    assertEquals(Digests.sha256(v2), record.get("model_digest").asText());
    assertEquals(6, record.get("schema_version").asInt());

    // Removal: refused while the pool serves the version, allowed for the other one.
    var inUse = admin.send("DELETE", "/admin/v1/models/tiny/versions/v2", null);
    assertEquals(409, inUse.statusCode(), inUse.body());
    assertTrue(inUse.body().contains("cat"), inUse.body());
    assertEquals(409, admin.send("DELETE", "/admin/v1/models/tiny", null).statusCode());
    var removed = admin.send("DELETE", "/admin/v1/models/tiny/versions/v1", null);
    assertEquals(200, removed.statusCode(), removed.body());
    var list = ApiClient.json(operator.get("/admin/v1/models").body()).get("models");
    assertEquals(1, list.size());
    assertEquals(List.of("v2"), names(list.get(0).get("versions"), "version"));
    assertEquals("cat", list.get(0).get("pools").get(0).asText());
  }

  @Test
  void refusesWrongDigestsNonModelsAndUnknownCatalogModelsLeavingNothingBehind() throws Exception {
    String wrong = "0".repeat(64);
    var failed = awaitImport(accepted(admin.post("/admin/v1/models", "{\"name\": \"other\", \"from\": \"" + v1 + "\", \"sha256\": \"" + wrong + "\"}")));
    assertEquals("failed", failed.get("status").asText());
    assertTrue(failed.get("error").asText().contains("000000000000"), failed.toString());
    assertEquals(404, operator.get("/admin/v1/models/other").statusCode(), "no half-registered version");
    try (var tmp = Files.list(data.resolve("d").resolve("models").resolve("tmp"))) {
      assertEquals(0, tmp.count(), "no temp file left");
    }

    Path notes = Files.writeString(data.resolve("notes.txt"), "not a model");
    var notModel = admin.post("/admin/v1/models", "{\"name\": \"other\", \"from\": \"" + notes + "\"}");
    assertEquals(400, notModel.statusCode(), notModel.body());
    assertEquals(400, admin.post("/admin/v1/models", "{\"name\": \"bad name\", \"from\": \"" + v1 + "\"}").statusCode());
    assertEquals(400, admin.post("/admin/v1/models", "{\"name\": \"other\", \"from\": \"ftp://example.com/x.gguf\"}").statusCode());
    assertEquals(400, admin.post("/admin/v1/models", "{\"name\": \"other\", \"from\": \"hf://org/../x.gguf\"}").statusCode());
    assertEquals(400, admin.post("/admin/v1/models", "{\"name\": \"other\", \"from\": \"" + v1 + "\", \"sha256\": \"xyz\"}").statusCode());

    var unknown = admin.post("/admin/v1/pools", "{\"id\": \"nope\", \"model\": \"missing@v1\"}");
    assertEquals(404, unknown.statusCode(), unknown.body());
    assertTrue(unknown.body().contains("dalang model add"), unknown.body());
    assertEquals(400, admin.post("/admin/v1/pools", "{\"id\": \"nope\", \"model\": \"x\", \"model_path\": \"" + v1 + "\"}").statusCode());

    // A blob is served to nodes only with a token asked for over the cluster: without one, 404.
    var blob = user.get("/internal/v1/blobs/sha256/" + Digests.sha256(v1));
    assertEquals(404, blob.statusCode());
    assertNotEquals(Files.size(v1), blob.body().length());
  }

  private static String accepted(HttpResponse<String> r) throws IOException {
    assertEquals(202, r.statusCode(), r.body());
    return ApiClient.json(r.body()).get("id").asText();
  }

  private JsonNode awaitImport(String id) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    JsonNode v = null;
    while (System.nanoTime() < end) {
      v = ApiClient.json(operator.get("/admin/v1/model-imports/" + id).body());
      String s = v.path("status").asText();
      if (s.equals("done") || s.equals("failed")) return v;
      Thread.sleep(100);
    }
    throw new AssertionError("import " + id + " did not finish: " + v);
  }

  private void awaitReady(String pool) throws Exception {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    JsonNode p = null;
    while (System.nanoTime() < end) {
      p = ApiClient.json(admin.get("/admin/v1/pools/" + pool).body());
      for (JsonNode s : p.path("slots")) if (s.path("state").asText().equals("Ready")) return;
      Thread.sleep(200);
    }
    throw new AssertionError("pool " + pool + " did not get a Ready replica: " + p);
  }

  private static List<String> names(JsonNode array, String field) {
    var out = new ArrayList<String>();
    array.forEach(n -> out.add(n.get(field).asText()));
    return out;
  }
}
