package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The admin API with real keys of every role against a running node: who may do what, and strict bodies. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdminApiEndToEndTest {
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}""";
  @TempDir static Path data;
  DalangNode node;
  ApiClient admin;

  @BeforeAll
  void start() throws Exception {
    node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0), System.out);
    Path keyFile = data.resolve("admin.key");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
    admin = new ApiClient(node.httpPort(), Files.readString(keyFile).strip());
    admin.awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  static JsonNode ok(HttpResponse<String> r, int status) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    return ApiClient.json(r.body());
  }

  static JsonNode error(HttpResponse<String> r, int status, String code) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = ApiClient.json(r.body()).get("error");
    assertEquals(code, e.get("code").asText(), r.body());
    return e;
  }

  /** Creates a tenant on the demo pool and a key of {@code role} in it; returns a client with that key. */
  ApiClient tenantKey(String tenant, String keyId, String role) throws Exception {
    if (admin.get("/admin/v1/tenants/" + tenant).statusCode() == 404) {
      ok(admin.post("/admin/v1/tenants", "{\"id\": \"" + tenant + "\", \"display_name\": \"T " + tenant + "\", \"pools\": [\"demo\"]}"), 201);
    }
    var issued = ok(admin.post("/admin/v1/tenants/" + tenant + "/keys", "{\"key_id\": \"" + keyId + "\", \"role\": \"" + role + "\"}"), 201);
    assertEquals(role, issued.get("role").asText());
    assertTrue(issued.get("key").asText().startsWith("dlg-"));
    return admin.withKey(issued.get("key").asText());
  }

  @Test
  void definitionsAreReadStrictlyWithFieldLevelErrors() throws Exception {
    var unknown = error(admin.post("/admin/v1/tenants", "{\"id\": \"x1\", \"display_name\": \"X\", \"colour\": \"red\"}"), 400, "invalid_request");
    assertEquals("colour", unknown.get("param").asText());
    var wrongType = error(admin.post("/admin/v1/tenants", "{\"id\": 7, \"display_name\": \"X\"}"), 400, "invalid_request");
    assertEquals("id", wrongType.get("param").asText());
    assertEquals("id", error(admin.post("/admin/v1/tenants", "{\"id\": \"Not Valid\", \"display_name\": \"X\"}"), 400, "invalid_request")
        .get("param").asText());
    assertEquals("id", error(admin.post("/admin/v1/tenants", "{\"id\": \"platform\", \"display_name\": \"X\"}"), 400, "invalid_request")
        .get("param").asText());
    assertEquals("display_name", error(admin.post("/admin/v1/tenants", "{\"id\": \"x2\"}"), 400, "invalid_request").get("param").asText());
    error(admin.post("/admin/v1/tenants", "{\"id\": "), 400, "malformed_json");
    ok(admin.post("/admin/v1/tenants", "{\"id\": \"x3\", \"display_name\": \"X\"}"), 201);
    error(admin.post("/admin/v1/tenants", "{\"id\": \"x3\", \"display_name\": \"X again\"}"), 409, "conflict");
    var quota = error(admin.send("PUT", "/admin/v1/tenants/x3/quotas",
        "{\"requests_per_minute\": -1, \"tokens_per_day\": 0, \"concurrent_jobs\": 0, \"queued_jobs\": 0}"), 400, "invalid_request");
    assertEquals("requests_per_minute", quota.get("param").asText());
    assertEquals("queued_jobs", error(admin.send("PUT", "/admin/v1/tenants/x3/quotas",
        "{\"requests_per_minute\": 1, \"tokens_per_day\": 0, \"concurrent_jobs\": 0}"), 400, "invalid_request").get("param").asText());
    error(admin.post("/admin/v1/tenants/x3/keys", "{\"key_id\": \"k\", \"role\": \"platform-admin\"}"), 400, "invalid_request");
    error(admin.get("/admin/v1/tenants/nope"), 404, "not_found");
  }

  @Test
  void aTenantAdminManagesItsOwnTenantOnly() throws Exception {
    var acmeAdmin = tenantKey("acme", "acme-admin", "tenant-admin");
    tenantKey("globex", "globex-admin", "tenant-admin");

    var acme = ok(acmeAdmin.get("/admin/v1/tenants/acme"), 200);
    assertEquals("acme-admin", acme.get("keys").get(0).get("key_id").asText());
    assertFalse(acme.toString().contains("dlg-"), "listings never show keys");
    error(acmeAdmin.get("/admin/v1/tenants/globex"), 403, "permission_denied");
    error(acmeAdmin.post("/admin/v1/tenants/globex/keys", "{\"key_id\": \"mine\", \"role\": \"tenant-user\"}"), 403, "permission_denied");
    error(acmeAdmin.send("DELETE", "/admin/v1/tenants/globex/keys/globex-admin", null), 403, "permission_denied");
    error(acmeAdmin.post("/admin/v1/tenants", "{\"id\": \"evil\", \"display_name\": \"E\"}"), 403, "permission_denied");
    error(acmeAdmin.send("PUT", "/admin/v1/tenants/acme/quotas",
        "{\"requests_per_minute\": 0, \"tokens_per_day\": 0, \"concurrent_jobs\": 0, \"queued_jobs\": 0}"), 403, "permission_denied");
    error(acmeAdmin.get("/admin/v1/fleet"), 403, "permission_denied");
    error(acmeAdmin.post("/admin/v1/platform/keys", "{\"key_id\": \"me\", \"role\": \"platform-admin\"}"), 403, "permission_denied");

    // It issues its own tenant's users, who run inference but administer nothing.
    var issued = ok(acmeAdmin.post("/admin/v1/tenants/acme/keys", "{\"key_id\": \"acme-app\", \"role\": \"tenant-user\"}"), 201);
    var user = admin.withKey(issued.get("key").asText());
    ok(user.post("/v1/chat/completions", CHAT), 200);
    var seen = ok(user.get("/admin/v1/tenants/acme"), 200);
    assertFalse(seen.has("keys"), "a tenant user does not see the key list");
    error(user.post("/admin/v1/tenants/acme/keys", "{\"key_id\": \"more\", \"role\": \"tenant-user\"}"), 403, "permission_denied");
  }

  @Test
  void platformRolesAdministerButDoNotRunInference() throws Exception {
    var issued = ok(admin.post("/admin/v1/platform/keys", "{\"key_id\": \"oncall\", \"role\": \"operator\"}"), 201);
    var operator = admin.withKey(issued.get("key").asText());
    var fleet = ok(operator.get("/admin/v1/fleet"), 200);
    assertEquals("demo-0", fleet.get("slots").get(0).get("slot_id").asText());
    ok(operator.get("/admin/v1/tenants/demo"), 200);
    error(operator.post("/admin/v1/tenants", "{\"id\": \"op-made\", \"display_name\": \"O\"}"), 403, "permission_denied");
    error(operator.post("/v1/chat/completions", CHAT), 403, "permission_denied");
    error(admin.post("/v1/chat/completions", CHAT), 403, "permission_denied");
    error(admin.post("/admin/v1/platform/keys", "{\"key_id\": \"bad\", \"role\": \"tenant-user\"}"), 400, "invalid_request");
    error(admin.withKey("dlg-wrong").get("/admin/v1/fleet"), 401, "authentication_failed");
  }

  @Test
  void rotationIssuesANewKeyAndRevokesTheOldOneAndRevocationIsImmediate() throws Exception {
    var old = tenantKey("initech", "initech-app", "tenant-user");
    ok(old.post("/v1/chat/completions", CHAT), 200);
    var rotated = ok(admin.post("/admin/v1/tenants/initech/keys/initech-app/rotate", ""), 201);
    assertEquals("initech-app-r2", rotated.get("key_id").asText());
    error(old.post("/v1/chat/completions", CHAT), 401, "authentication_failed");
    var fresh = admin.withKey(rotated.get("key").asText());
    ok(fresh.post("/v1/chat/completions", CHAT), 200);
    var revoked = ok(admin.send("DELETE", "/admin/v1/tenants/initech/keys/initech-app-r2", null), 200);
    assertFalse(revoked.get("active").asBoolean());
    error(fresh.post("/v1/chat/completions", CHAT), 401, "authentication_failed");
    error(admin.post("/admin/v1/tenants/initech/keys/initech-app/rotate", ""), 409, "conflict");
  }

  /** The ledger is written asynchronously: ask until the expected events are there. */
  static JsonNode auditUntil(ApiClient client, String query, java.util.function.Predicate<JsonNode> done) throws Exception {
    JsonNode last = null;
    for (int i = 0; i < 50; i++) {
      last = ok(client.get("/admin/v1/audit" + query), 200);
      if (done.test(last.get("events"))) return last.get("events");
      Thread.sleep(100);
    }
    throw new AssertionError("audit events never matched: " + last);
  }

  static boolean has(JsonNode events, String action, String outcome) {
    for (JsonNode e : events) if (e.get("action").asText().equals(action) && e.get("outcome").asText().equals(outcome)) return true;
    return false;
  }

  @Test
  void changesAndDenialsAreInTheAuditLedgerAndTenantAdminsSeeOnlyTheirOwn(@TempDir Path tmp) throws Exception {
    var umbrella = tenantKey("umbrella", "umbrella-admin", "tenant-admin");
    error(umbrella.get("/admin/v1/tenants/demo"), 403, "permission_denied");
    error(admin.withKey("dlg-nobody").get("/admin/v1/fleet"), 401, "authentication_failed");

    var mine = auditUntil(umbrella, "?limit=1000", e -> has(e, "tenant.create", "ok") && has(e, "key.issue", "ok") && has(e, "access.denied", "denied"));
    for (JsonNode e : mine) assertEquals("umbrella", e.get("tenant").asText(), "a tenant admin sees its own tenant only");
    var denial = java.util.stream.StreamSupport.stream(mine.spliterator(), false)
        .filter(e -> e.get("action").asText().equals("access.denied")).findFirst().orElseThrow();
    assertEquals("umbrella-admin", denial.get("actor").asText());
    assertTrue(denial.get("reason").asText().contains("tenant.read"), denial.toString());
    error(umbrella.get("/admin/v1/audit?tenant=demo"), 403, "permission_denied");

    // A key nobody issued is counted, not audited: a flood of them cannot fill the ledger (docs/security.md, Floods).
    assertTrue(admin.metric("dalang_auth_denied_total{reason=\"unknown\"}") >= 1);
    var anonymous = ok(admin.get("/admin/v1/audit?actor=anonymous&outcome=denied"), 200).get("events");
    assertEquals(0, anonymous.size(), anonymous.toString());
    assertFalse(ok(admin.get("/admin/v1/audit?limit=1000"), 200).toString().contains("dlg-nobody"), "a key never goes into the ledger");
    error(admin.get("/admin/v1/audit?colour=red"), 400, "invalid_request");

    // The whole chain exported over HTTP verifies on its own, away from the node.
    var export = admin.get("/admin/v1/audit?format=jsonl");
    assertEquals(200, export.statusCode());
    Path file = tmp.resolve("audit.jsonl");
    Files.writeString(file, export.body());
    var cli = new picocli.CommandLine(new io.dalang.runtime.Main());
    assertEquals(0, cli.execute("audit", "verify", "--file", file.toString()));
    Files.writeString(file, export.body().replaceFirst("umbrella", "umbrellb"));
    assertEquals(1, cli.execute("audit", "verify", "--file", file.toString()), "one changed byte breaks the chain");
  }

  @Test
  void secretsGoInEncryptedVersionedAndAuditedAndNeverComeBackOut() throws Exception {
    var hooli = tenantKey("hooli", "hooli-admin", "tenant-admin");
    String value = "sk-test-" + Long.toHexString(System.nanoTime()) + "abcdefghijklmnop";
    var v1 = ok(hooli.send("PUT", "/admin/v1/tenants/hooli/secrets/providers/openai", "{\"value\": \"" + value + "\"}"), 200);
    assertEquals(1, v1.get("version").asInt());
    var v2 = ok(hooli.send("PUT", "/admin/v1/tenants/hooli/secrets/providers/openai", "{\"value\": \"" + value + "-2\"}"), 200);
    assertEquals(2, v2.get("version").asInt());
    assertFalse(v2.toString().contains(value));
    var list = ok(hooli.get("/admin/v1/tenants/hooli/secrets"), 200);
    assertEquals("openai", list.at("/secrets/0/name").asText());
    assertEquals(2, list.at("/secrets/0/versions").size());
    assertFalse(list.toString().contains(value), "listings carry names and versions, never values");
    error(hooli.send("PUT", "/admin/v1/tenants/hooli/secrets/providers/openai", "{\"value\": \"\"}"), 400, "invalid_request");
    error(hooli.send("PUT", "/admin/v1/tenants/hooli/secrets/providers/openai", "{\"value\": \"x\", \"note\": 1}"), 400, "invalid_request");
    var other = tenantKey("piedpiper", "pp-admin", "tenant-admin");
    error(other.get("/admin/v1/tenants/hooli/secrets"), 403, "permission_denied");
    error(other.send("PUT", "/admin/v1/tenants/hooli/secrets/providers/openai", "{\"value\": \"x\"}"), 403, "permission_denied");
    var rotated = ok(admin.post("/admin/v1/tenants/hooli/secrets/rotate", ""), 200);
    assertEquals(0, rotated.get("rewrapped").asInt(), "already under the current key");
    ok(hooli.send("DELETE", "/admin/v1/tenants/hooli/secrets/providers/openai", null), 200);
    var events = auditUntil(admin, "?tenant=hooli&limit=1000", e -> has(e, "secret.put", "ok") && has(e, "secret.delete", "ok"));
    assertFalse(events.toString().contains(value), "the ledger names secrets, never their values");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("master.key"))));
  }
}
