package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit ledger never drops silently: with a tiny queue ({@code dalang.audit.max-pending = 2}) and
 * the ledger's table refusing inserts (a real H2 constraint, as a failing database would), an admin
 * change is refused with a typed 503 before anything is done, entries beyond the margin are counted in
 * an audit.gap event once the database is back, and the chain still verifies.
 */
class AuditBackpressureEndToEndTest {

  @Test
  void aFullLedgerRefusesAdminChangesWithATyped503AndRecordsTheGap(@TempDir Path data) throws Exception {
    Path conf = data.resolve("tiny-audit.conf");
    Files.writeString(conf, "dalang.audit.max-pending = 2\ndalang.demo.enabled = false\n");
    try (var node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, null, null), System.out)) {
      Path dir = data.resolve("d");
      var admin = new ApiClient(node.httpPort(), Files.readString(dir.resolve("admin.key")).strip());
      assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"acme\", \"display_name\": \"A\"}").statusCode());
      var user = admin.withKey(ApiClient.json(admin.post("/admin/v1/tenants/acme/keys", "{\"key_id\": \"app\", \"role\": \"tenant-user\"}")
          .body()).get("key").asText());
      assertEquals(200, user.get("/admin/v1/tenants/acme").statusCode(), "the user's key is known before the database fails");

      String password = Files.readString(EmbeddedJournal.passwordFile(dir), StandardCharsets.US_ASCII).strip();
      try (var db = DriverManager.getConnection(EmbeddedJournal.url(dir), "dalang", password); var sql = db.createStatement()) {
        sql.execute("ALTER TABLE dalang_audit_event ADD CONSTRAINT audit_held CHECK (seq < 0) NOCHECK");
        // Denied reads are recorded without asking the ledger first: they fill the queue and its margin.
        for (int i = 0; i < 12; i++) assertEquals(403, user.get("/admin/v1/fleet").statusCode());

        HttpResponse<String> refused = admin.post("/admin/v1/tenants", "{\"id\": \"late\", \"display_name\": \"L\"}");
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("audit_unavailable", ApiClient.json(refused.body()).at("/error/code").asText(), refused.body());
        assertTrue(refused.headers().firstValue("Retry-After").isPresent(), "a retriable refusal says when to retry");
        assertEquals(503, admin.send("DELETE", "/admin/v1/tenants/acme/keys/app", null).statusCode());

        sql.execute("ALTER TABLE dalang_audit_event DROP CONSTRAINT audit_held");
      }

      JsonNode gap = await(admin, "/admin/v1/audit?action=audit.gap");
      assertTrue(gap.at("/details/lost").asLong() > 0, gap.toString());
      assertEquals(404, admin.get("/admin/v1/tenants/late").statusCode(), "the refused change was not made");
      assertEquals(200, user.get("/admin/v1/tenants/acme").statusCode(), "the refused revocation was not made");
      assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"late\", \"display_name\": \"L\"}").statusCode());
      JsonNode verified = ApiClient.json(admin.get("/admin/v1/audit/verify").body());
      assertTrue(verified.get("ok").asBoolean(), verified.toString());
    }
  }

  /** The first event the query finds, once the writer has caught up. */
  static JsonNode await(ApiClient admin, String query) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      var r = admin.get(query);
      if (r.statusCode() == 200) {
        JsonNode events = ApiClient.json(r.body()).get("events");
        if (events != null && events.size() > 0) return events.get(0);
      }
      if (System.nanoTime() > deadline) throw new AssertionError(query + " found nothing: " + r.body());
      Thread.sleep(200);
    }
  }
}
