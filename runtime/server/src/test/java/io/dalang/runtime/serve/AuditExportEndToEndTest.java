package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditEntry;
import io.dalang.actors.audit.AuditExport;
import io.dalang.runtime.testing.ApiClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code GET /admin/v1/audit?format=} streams: a chunked body written as it is read, never whole in memory. */
class AuditExportEndToEndTest {
  static final int EVENTS = 20_000;

  @Test
  void aLargeExportIsStreamedInChunksAndVerifies(@TempDir Path data) throws Exception {
    Path conf = data.resolve("no-demo.conf");
    Files.writeString(conf, "dalang.demo.enabled = false\n");
    var options = new ServeOptions(data.resolve("d"), 0, null, 0, conf, null, null);
    try (var node = DalangNode.start(options, System.out)) {
      String key = Files.readString(data.resolve("d").resolve("admin.key")).strip();
      var admin = new ApiClient(node.httpPort(), key);
      var ledger = AuditActor.init(node.system(), DalangNode.config(options));
      long before = ApiClient.json(admin.get("/admin/v1/audit/verify").body()).path("count").asLong();
      // One first, stored before the rest: until this proxy has found the writer singleton it buffers
      // at most 1000 messages (pekko.cluster.singleton-proxy.buffer-size) and drops the others.
      ledger.tell(record(0));
      awaitStored(admin, before + 1);
      for (int i = 1; i < EVENTS; i++) ledger.tell(record(i));
      awaitStored(admin, before + EVENTS);

      var http = HttpClient.newHttpClient();
      var request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort() + "/admin/v1/audit?format=jsonl"))
          .header("Authorization", "Bearer " + key).build();
      HttpResponse<java.io.InputStream> r = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, r.statusCode());
      assertEquals("chunked", r.headers().firstValue("transfer-encoding").orElse("(none)"), r.headers().map().toString());
      assertFalse(r.headers().firstValue("content-length").isPresent(), "a streamed export cannot know its length up front");
      try (var in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
        var verified = AuditExport.verify(in);
        assertTrue(verified.ok(), verified.reason());
        assertTrue(verified.count() >= EVENTS, "events: " + verified.count());
      }

      // A client that hangs up after the first line stops the export; the node goes on serving.
      HttpResponse<java.io.InputStream> dropped = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
      try (var in = new BufferedReader(new InputStreamReader(dropped.body(), StandardCharsets.UTF_8))) {
        assertTrue(in.readLine().contains("\"type\":\"header\""));
      }
      assertEquals(200, admin.get("/admin/v1/audit?limit=1").statusCode());
    }
  }

  static AuditActor.Record record(int i) {
    return new AuditActor.Record(AuditEntry.ok("acme", "key-" + (i % 7), "tenant.update", "acme").with("n", Integer.toString(i)));
  }

  /** Waits for the writer to have stored the events. */
  static void awaitStored(ApiClient admin, long atLeast) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      var verify = ApiClient.json(admin.get("/admin/v1/audit/verify").body());
      if (verify.path("count").asLong() >= atLeast) return;
      if (System.nanoTime() > deadline) throw new AssertionError("the ledger holds " + verify);
      Thread.sleep(500);
    }
  }
}
