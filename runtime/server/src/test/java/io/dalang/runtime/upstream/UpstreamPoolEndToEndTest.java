package io.dalang.runtime.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.ExternalLlamaServer;
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
 * An {@code openai-upstream} pool in front of a real llama-server that this test starts as a process of
 * its own (Dalang does not start or own it), guarded by {@code --api-key}: the provider {@code ls-a} holds
 * its address and key, and the pool's one replica fronts it. Runs stream through it like any slot's, its
 * HTTP errors come back typed without its words or key, the slot leaves Ready while the server is down and
 * comes back when it is up again (the tenant's fallback serving meanwhile), and the pool refuses what it
 * cannot be.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpstreamPoolEndToEndTest {
  static final String KEY = "up-" + Long.toHexString(System.nanoTime());
  static final String UPSTREAM_KEY = "upstream-key-" + Long.toHexString(System.nanoTime());
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;
  ApiClient admin;
  ExternalLlamaServer llamaServer;

  @BeforeAll
  void start() throws Exception {
    Path conf = data.resolve("fast-health.conf");
    // Health flips are seen within seconds, not the default 15 s.
    Files.writeString(conf, "dalang.node.health-interval = 1 s\ndalang.node.health-failures-before-restart = 2\n");
    node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, null, KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    llamaServer = ExternalLlamaServer.start(UPSTREAM_KEY, data.resolve("llama-server.log"), "-c", "2048", "-np", "2", "--metrics");
    api.awaitReady(Duration.ofSeconds(90));
    admin = api.withKey(Files.readString(data.resolve("d").resolve("admin.key")).strip());
    provider("ls-a", UPSTREAM_KEY);
    provider("ls-wrong-key", "not-the-" + UPSTREAM_KEY);
  }

  @AfterAll
  void stop() throws Exception {
    if (llamaServer != null) llamaServer.stop();
    if (node != null) node.close();
  }

  private void provider(String name, String key) throws Exception {
    var r = admin.post("/admin/v1/providers", "{\"name\": \"" + name + "\", \"base_url\": \"" + llamaServer.baseUrl()
        + "\", \"models\": [\"tiny\"], \"api_key\": \"" + key + "\", \"allow_private\": true}");
    assertEquals(201, r.statusCode(), r.body());
  }

  private void pool(String id, String provider) throws Exception {
    var r = admin.post("/admin/v1/pools", "{\"id\": \"" + id + "\", \"engine\": \"openai-upstream\", \"model_id\": \"" + id
        + "-model\", \"upstreams\": [{\"provider\": \"" + provider + "\", \"model\": \"tiny\", \"max_sequences\": 2}]}");
    assertEquals(201, r.statusCode(), r.body());
    var g = admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"" + id + "\"}");
    assertEquals(200, g.statusCode(), g.body());
  }

  private JsonNode awaitReplicas(String pool, int ready) throws Exception {
    return admin.awaitJson("/admin/v1/pools/" + pool, v -> ApiClient.readySlots(v) == ready, Duration.ofSeconds(60));
  }

  private JsonNode upstreamSlot() throws Exception {
    for (JsonNode s : ApiClient.json(admin.get("/admin/v1/fleet").body()).path("slots")) {
      if (s.path("pool").asText().equals("up")) return s;
    }
    throw new AssertionError("no slot of pool up in the fleet");
  }

  @Test
  @Order(1)
  void streamsThroughTheUpstreamLikeAnySlot() throws Exception {
    pool("up", "ls-a");
    var view = awaitReplicas("up", 1);
    assertEquals("ls-a", view.at("/upstreams/0/provider").asText(), view.toString());
    assertEquals(2, view.at("/upstreams/0/max_sequences").asInt());

    var resp = api.postStream("/v1/chat/completions", """
        {"model": "up-model", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 8, "temperature": 0, "stream": true,
         "stream_options": {"include_usage": true}}""");
    assertEquals(200, resp.statusCode());
    var chunks = ApiClient.sseData(resp.body());
    assertEquals("[DONE]", chunks.get(chunks.size() - 1));
    JsonNode usage = ApiClient.json(chunks.get(chunks.size() - 2));
    assertEquals(8, usage.at("/usage/completion_tokens").asInt(), usage.toString());
    assertEquals("up-model", usage.path("model").asText());
    String runId = resp.headers().firstValue("x-dalang-run-id").orElseThrow();
    var run = api.awaitRun(runId, Duration.ofSeconds(10));
    assertEquals("openai-upstream", run.path("engine").asText(), run.toString());
    assertEquals("up", run.path("pool").asText(), run.toString());

    var plain = api.post("/v1/completions", "{\"model\": \"up-model\", \"prompt\": \"Once\", \"max_tokens\": 5, \"temperature\": 0}");
    assertEquals(200, plain.statusCode(), plain.body());
    assertEquals(5, ApiClient.json(plain.body()).at("/usage/completion_tokens").asInt());

    JsonNode slot = upstreamSlot();
    assertEquals("openai-upstream", slot.path("engine").asText(), slot.toString());
    assertEquals(2, slot.path("slots_total").asInt(), slot.toString());
  }

  @Test
  @Order(2)
  void anUpstreamRefusingItsKeyNeverBecomesReadyAndSaysWhyWithoutItsWordsOrKey() throws Exception {
    // llama-server's /health needs no key, so the upstream looks healthy; the warm-up generation is refused.
    pool("up-wrong", "ls-wrong-key");
    var view = admin.awaitJson("/admin/v1/pools/up-wrong", v -> v.at("/slots/0/state").asText().equals("Failed"), Duration.ofSeconds(60));
    String detail = view.at("/slots/0/detail").asText();
    assertTrue(detail.contains("upstream ls-wrong-key answered HTTP 401"), view.toString());
    assertFalse(view.toString().contains("not-the-" + UPSTREAM_KEY), "the upstream's key is never shown");
    assertFalse(detail.toLowerCase().contains("invalid api key"), "the upstream's own words are never shown: " + detail);
    var r = api.post("/v1/chat/completions", "{\"model\": \"up-wrong-model\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 4}");
    assertTrue(r.statusCode() == 503 || r.statusCode() == 429, r.statusCode() + " " + r.body());
    assertFalse(r.body().contains(UPSTREAM_KEY), "the upstream's key never reaches a client");
  }

  @Test
  @Order(3)
  void theSlotLeavesReadyWhileTheServerIsDownAndComesBack() throws Exception {
    llamaServer.stop();
    awaitReplicas("up", 0);
    var r = api.post("/v1/completions", "{\"model\": \"up-model\", \"prompt\": \"Once\", \"max_tokens\": 2}");
    assertTrue(r.statusCode() == 503 || r.statusCode() == 429 || r.statusCode() == 504, r.statusCode() + " " + r.body());
    // The tenant's fallback treats the upstream pool like any other: while its server is down, the demo pool serves.
    var set = api.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": [{\"pool\": \"demo\", \"for_model\": \"up-model\"}]}");
    assertEquals(200, set.statusCode(), set.body());
    var fellBack = api.post("/v1/completions", "{\"model\": \"up-model\", \"prompt\": \"Once\", \"max_tokens\": 2}");
    assertEquals(200, fellBack.statusCode(), fellBack.body());
    assertEquals("pool:demo", fellBack.headers().firstValue("x-dalang-served-by").orElseThrow());
    assertEquals(200, api.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": []}").statusCode());
    llamaServer.start();
    awaitReplicas("up", 1);
    var again = api.post("/v1/completions", "{\"model\": \"up-model\", \"prompt\": \"Once\", \"max_tokens\": 3}");
    assertEquals(200, again.statusCode(), again.body());
  }

  @Test
  @Order(4)
  void refusesWhatAnUpstreamPoolCannotBe() throws Exception {
    var unknown = admin.post("/admin/v1/pools", """
        {"id": "up-x", "engine": "openai-upstream", "model_id": "x", "upstreams": [{"provider": "nobody"}]}""");
    assertEquals(404, unknown.statusCode(), unknown.body());
    var wrongModel = admin.post("/admin/v1/pools", """
        {"id": "up-x", "engine": "openai-upstream", "model_id": "x", "upstreams": [{"provider": "ls-a", "model": "other"}]}""");
    assertEquals(400, wrongModel.statusCode(), wrongModel.body());
    assertTrue(wrongModel.body().contains("does not serve model other"), wrongModel.body());
    var withFile = admin.post("/admin/v1/pools", """
        {"id": "up-x", "engine": "openai-upstream", "model_id": "x", "model_path": "/tmp/x.gguf", "upstreams": [{"provider": "ls-a", "model": "tiny"}]}""");
    assertEquals(400, withFile.statusCode(), withFile.body());
    var twice = admin.post("/admin/v1/pools", """
        {"id": "up-x", "engine": "openai-upstream", "model_id": "x", "upstreams": [{"provider": "ls-a", "model": "tiny"}, {"provider": "ls-a", "model": "tiny"}]}""");
    assertEquals(400, twice.statusCode(), twice.body());
    var scale = admin.send("PATCH", "/admin/v1/pools/up", "{\"replicas\": 3}");
    assertEquals(400, scale.statusCode(), scale.body());
    var toLlama = admin.send("PATCH", "/admin/v1/pools/up", "{\"engine\": \"llama-server\"}");
    assertEquals(400, toLlama.statusCode(), toLlama.body());
    var rollout = admin.send("PATCH", "/admin/v1/pools/up", "{\"model\": \"whatever@v1\"}");
    assertTrue(rollout.statusCode() == 400 || rollout.statusCode() == 404, rollout.body());
  }
}
