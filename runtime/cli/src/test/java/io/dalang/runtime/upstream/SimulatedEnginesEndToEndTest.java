package io.dalang.runtime.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.sim.SimProfile;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.sim.SimEngineServer;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two engines without a model: a node whose demo pool runs the simulated engine
 * ({@code dalang serve --engine simulated}), and an {@code openai-upstream} pool in front of
 * {@code dalang sim engine} (the same engine as an OpenAI-compatible server, started here): streaming
 * through both, the same seed giving the same answer, the upstream's vLLM-style {@code /metrics} read
 * into the slot, and the slot leaving Ready while the server is gone and coming back with it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SimulatedEnginesEndToEndTest {
  static final String KEY = "sim-" + Long.toHexString(System.nanoTime());
  static final SimProfile UPSTREAM_PROFILE = new SimProfile(5, 1, 0, 0, 0, 11, 4);
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;
  ApiClient admin;
  SimEngineServer upstream;
  int upstreamPort;

  @BeforeAll
  void start() throws Exception {
    Path conf = data.resolve("fast-health.conf");
    Files.writeString(conf, "dalang.node.health-interval = 1 s\ndalang.node.health-failures-before-restart = 2\n");
    node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, "simulated", KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    api.awaitReady(Duration.ofSeconds(60));
    admin = api.withKey(Files.readString(data.resolve("d").resolve("admin.key")).strip());
    upstream = SimEngineServer.start(UPSTREAM_PROFILE, "sim-served", "127.0.0.1", 0);
    upstreamPort = upstream.port();
  }

  @AfterAll
  void stop() {
    if (upstream != null) upstream.close();
    if (node != null) node.close();
  }

  private String chat(String model, int seed) throws Exception {
    var resp = api.postStream("/v1/chat/completions", "{\"model\": \"" + model + "\", \"messages\": [{\"role\": \"user\", \"content\": \"hello\"}],"
        + " \"max_tokens\": 6, \"seed\": " + seed + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}}");
    assertEquals(200, resp.statusCode());
    var chunks = ApiClient.sseData(resp.body());
    assertEquals("[DONE]", chunks.get(chunks.size() - 1));
    assertEquals(6, ApiClient.json(chunks.get(chunks.size() - 2)).at("/usage/completion_tokens").asInt(), chunks.toString());
    var text = new StringBuilder();
    for (String c : chunks.subList(0, chunks.size() - 1)) text.append(ApiClient.json(c).at("/choices/0/delta/content").asText(""));
    return text.toString();
  }

  @Test
  @Order(1)
  void theDemoPoolRunsOnTheSimulatedEngineDeterministically() throws Exception {
    String a = chat("dalang-demo", 3);
    assertTrue(!a.isBlank());
    assertEquals(a, chat("dalang-demo", 3), "the same seed and request give the same answer");
    var r = api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"Once\", \"max_tokens\": 3}");
    assertEquals(200, r.statusCode(), r.body());
    var run = api.awaitRun(r.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertEquals("simulated", run.path("engine").asText(), run.toString());
  }

  @Test
  @Order(2)
  void anUpstreamPoolFrontsTheSimEngineAndReadsItsMetrics() throws Exception {
    var p = admin.post("/admin/v1/providers", "{\"name\": \"sim-a\", \"base_url\": \"" + upstream.baseUrl()
        + "\", \"models\": [\"sim-served\"], \"allow_private\": true}");
    assertEquals(201, p.statusCode(), p.body());
    var pool = admin.post("/admin/v1/pools", """
        {"id": "via-sim", "engine": "openai-upstream", "model_id": "via-sim", "upstreams": [{"provider": "sim-a", "model": "sim-served", "max_sequences": 4}]}""");
    assertEquals(201, pool.statusCode(), pool.body());
    assertEquals(200, admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"via-sim\"}").statusCode());
    admin.awaitJson("/admin/v1/pools/via-sim", v -> ApiClient.readySlots(v) == 1, Duration.ofSeconds(30));
    String a = chat("via-sim", 9);
    assertEquals(a, chat("via-sim", 9), "the upstream answers the same seed the same way, through Dalang too");
    JsonNode slot = null;
    for (JsonNode s : ApiClient.json(admin.get("/admin/v1/fleet").body()).path("slots")) if (s.path("pool").asText().equals("via-sim")) slot = s;
    assertEquals("openai-upstream", slot.path("engine").asText(), String.valueOf(slot));
    assertEquals(4, slot.path("slots_total").asInt());
  }

  @Test
  @Order(3)
  void theUpstreamSlotFollowsItsServerDownAndUp() throws Exception {
    upstream.close();
    admin.awaitJson("/admin/v1/pools/via-sim", v -> ApiClient.readySlots(v) == 0, Duration.ofSeconds(30));
    upstream = SimEngineServer.start(UPSTREAM_PROFILE, "sim-served", "127.0.0.1", upstreamPort);
    admin.awaitJson("/admin/v1/pools/via-sim", v -> ApiClient.readySlots(v) == 1, Duration.ofSeconds(60));
    chat("via-sim", 1);
  }
}
