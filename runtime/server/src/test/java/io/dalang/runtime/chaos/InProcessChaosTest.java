package io.dalang.runtime.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@link ChaosContract} on the in-process engine, and the admin API that switches faults for
 * drills: platform-admins set and clear them, operators read them, every change is audited.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InProcessChaosTest implements ChaosContract {
  static final String KEY = "chaos-" + Long.toHexString(System.nanoTime());
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;
  ApiClient admin;

  @BeforeAll
  void start() throws Exception {
    node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, ChaosNodes.config(data), "llama-inprocess", KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    admin = api.withKey(Files.readString(data.resolve("d").resolve("admin.key")).strip());
    api.awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  @Override
  public Served served() {
    return new Served(node, api, "llama-inprocess");
  }

  @Test
  void platformAdminsSwitchFaultsThroughTheAdminApiOperatorsReadThemAndEveryChangeIsAudited() throws Exception {
    var set = admin.post("/admin/v1/chaos", """
        {"seed": 11, "faults": [{"fault": "drop", "scope": "slot:demo-0", "after_tokens": 2, "every": 3, "count": 1}]}""");
    assertEquals(200, set.statusCode(), set.body());
    JsonNode on = ApiClient.json(set.body());
    assertTrue(on.get("enabled").asBoolean());
    assertEquals(11, on.get("seed").asLong());
    assertEquals("drop", on.at("/faults/0/fault").asText());
    assertEquals(0, on.at("/faults/0/injected").asInt());
    assertTrue(node.chaos().enabled(), "the node's engines inject it");

    var ops = ApiClient.json(admin.post("/admin/v1/platform/keys", "{\"key_id\": \"drill-oncall\", \"role\": \"operator\"}").body());
    var operator = api.withKey(ops.get("key").asText());
    assertEquals(200, operator.get("/admin/v1/chaos").statusCode());
    var denied = operator.send("DELETE", "/admin/v1/chaos", null);
    assertEquals(403, denied.statusCode(), denied.body());
    assertEquals("permission_denied", ApiClient.json(denied.body()).at("/error/code").asText());
    assertEquals(403, api.get("/admin/v1/chaos").statusCode(), "a tenant's key sees no chaos");

    var bad = admin.post("/admin/v1/chaos", "{\"faults\": [{\"fault\": \"drop\", \"after_tokens\": \"three\"}]}");
    assertEquals(400, bad.statusCode(), bad.body());
    assertEquals("invalid_request", ApiClient.json(bad.body()).at("/error/code").asText());
    assertEquals("faults[0].after_tokens", ApiClient.json(bad.body()).at("/error/param").asText());
    assertEquals(400, admin.post("/admin/v1/chaos", "{\"faults\": [").statusCode(), "malformed JSON is the client's mistake");
    assertTrue(node.chaos().enabled(), "a rejected plan changes nothing");

    var off = admin.send("DELETE", "/admin/v1/chaos", null);
    assertEquals(200, off.statusCode(), off.body());
    assertTrue(!ApiClient.json(off.body()).get("enabled").asBoolean() && !node.chaos().enabled());

    var audit = awaitAudit("chaos.set", 1);
    assertEquals("ok", audit.at("/events/0/outcome").asText());
    assertTrue(audit.at("/events/0/details/faults").asText().contains("\"drop\""), audit.toString());
    awaitAudit("chaos.clear", 1);
    awaitAudit("access.denied", 1);
  }

  JsonNode awaitAudit(String action, int atLeast) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      JsonNode page = ApiClient.json(admin.get("/admin/v1/audit?action=" + action).body());
      if (page.get("events").size() >= atLeast) return page;
      if (System.nanoTime() > deadline) throw new AssertionError("no audit event " + action + ": " + page);
      Thread.sleep(100);
    }
  }
}
