package io.dalang.runtime.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.PoolSpec;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.Digests;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.ExternalLlamaServer;
import io.dalang.testing.TestModels;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Per-tenant fallback with real parts: pool {@code broken} serves a model file that no longer matches
 * its digest (its slot never becomes Ready), pool {@code demo} is healthy, and a real llama-server started
 * here, guarded by {@code --api-key}, is provider {@code backup-llm} (on loopback, so created by the
 * platform-admin with {@code allow_private}), whose key the tenant never sees.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FallbackEndToEndTest {
  static final String KEY = "fb-" + Long.toHexString(System.nanoTime());
  static final String REMOTE_KEY = "remote-key-" + Long.toHexString(System.nanoTime());
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;
  ApiClient admin;
  ExternalLlamaServer llamaServer;
  String remoteBase;

  @BeforeAll
  void start() throws Exception {
    TestModels.llamaServerBinary(); // provisioned (or found in the cache) before the node's clock starts
    node = DalangNode.start(ServeOptions.forDataDir(data.resolve("d")).withPorts(0, 0).withDemoKey(KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    addBrokenPool();
    llamaServer = ExternalLlamaServer.start(REMOTE_KEY, data.resolve("llama-server.log"), "-c", "1024", "-np", "1");
    remoteBase = llamaServer.baseUrl();
    api.awaitReady(Duration.ofSeconds(90));
    admin = api.withKey(Files.readString(data.resolve("d").resolve("admin.key")).strip());
    createProvider("backup-llm", REMOTE_KEY);
    createProvider("wrong-llm", "not-the-" + REMOTE_KEY);
  }

  private void createProvider(String name, String key) throws Exception {
    var r = admin.post("/admin/v1/providers", "{\"name\": \"" + name + "\", \"base_url\": \"" + remoteBase
        + "\", \"models\": [\"tiny\"], \"api_key\": \"" + key + "\", \"allow_private\": true}");
    assertEquals(201, r.statusCode(), r.body());
    assertEquals(200, admin.post("/admin/v1/tenants/demo/providers", "{\"provider\": \"" + name + "\"}").statusCode());
  }

  @AfterAll
  void stop() throws Exception {
    if (llamaServer != null) llamaServer.stop();
    if (node != null) node.close();
  }

  /**
   * Inverts the file's last 64 bytes: weights damaged (its digest no longer matches), the header still
   * reads. Inverted, not zeroed: the tiny model's last rows are zeros already.
   */
  static void damage(RandomAccessFile f) throws java.io.IOException {
    byte[] tail = new byte[64];
    f.seek(f.length() - tail.length);
    f.readFully(tail);
    for (int i = 0; i < tail.length; i++) tail[i] = (byte) ~tail[i];
    f.seek(f.length() - tail.length);
    f.write(tail);
  }

  /** Pool {@code broken}: the tiny model, its digest recorded, then the file damaged, so its engine never starts. */
  private void addBrokenPool() throws Exception {
    Path model = data.resolve("broken.gguf");
    TinyModel.write(TinyModel.DEMO, model);
    String digest = Digests.sha256(model);
    try (var f = new RandomAccessFile(model.toFile(), "rw")) {
      damage(f);
    }
    var sharding = ClusterSharding.get(node.system());
    var spec = new PoolSpec("broken-model", model.toString(), digest, "llama-inprocess", 1, 1024, 1, 1);
    sharding.entityRefFor(PoolEntity.ENTITY_KEY, "broken").<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.CreatePool(spec, r),
        Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
    sharding.entityRefFor(TenantEntity.ENTITY_KEY, "demo").<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.GrantPool("broken", r),
        Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private void setFallbacks(String targetsJson) throws Exception {
    var r = api.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": " + targetsJson + "}");
    assertEquals(200, r.statusCode(), r.body());
  }

  /** A provider serving model {@code tiny}, accepted as a substitute for {@code broken-model}. */
  private static String remoteTarget(String provider) {
    return "{\"provider\": \"" + provider + "\", \"model\": \"tiny\", \"for_model\": \"broken-model\"}";
  }

  private double fallbacks(String from, String to, String reason) throws Exception {
    var m = Pattern.compile("^dalang_fallbacks_total\\{from=\"" + Pattern.quote(from) + "\",reason=\"" + reason + "\",tenant=\"demo\",to=\""
        + Pattern.quote(to) + "\"} ([0-9.eE+]+)$", Pattern.MULTILINE).matcher(api.get("/metrics").body());
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  private static String completion(boolean stream, int maxTokens) {
    return "{\"model\": \"broken-model\", \"prompt\": \"Once upon a time\", \"max_tokens\": " + maxTokens
        + ", \"temperature\": 0, \"stream\": " + stream + (stream ? ", \"stream_options\": {\"include_usage\": true}" : "") + "}";
  }

  @Test
  void aFallbackServingAnotherModelIsNeverUsedWithoutARuleForTheModelAsked() throws Exception {
    setFallbacks("[{\"pool\": \"demo\"}, {\"provider\": \"backup-llm\", \"model\": \"tiny\"}]");
    double before = fallbacks("pool:broken", "pool:demo", "no_ready_slot");

    var r = api.post("/v1/completions", completion(false, 4));
    assertEquals(503, r.statusCode(), "pool demo serves dalang-demo and the provider tiny, neither broken-model: " + r.body());
    assertEquals("no_ready_slot", ApiClient.json(r.body()).at("/error/code").asText());
    assertEquals(before, fallbacks("pool:broken", "pool:demo", "no_ready_slot"));
    assertTrue(r.headers().firstValue("x-dalang-served-by").map(v -> v.equals("pool:broken")).orElse(true), r.headers().map().toString());
  }

  @Test
  void aRunOnAPoolWhoseSlotNeverBecomesReadyIsServedByTheFallbackPoolStreamingAndNot() throws Exception {
    setFallbacks("[{\"pool\": \"demo\", \"for_model\": \"broken-model\"}]");
    double before = fallbacks("pool:broken", "pool:demo", "no_ready_slot");

    var whole = api.post("/v1/completions", completion(false, 8));
    assertEquals(200, whole.statusCode(), whole.body());
    assertEquals("pool:demo", whole.headers().firstValue("x-dalang-served-by").orElseThrow());
    assertEquals(8, ApiClient.json(whole.body()).at("/usage/completion_tokens").asInt());
    assertEquals("dalang-demo", ApiClient.json(whole.body()).get("model").asText(), "the answer names the model that gave it");
    JsonNode run = api.awaitRun(whole.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertEquals("pool:demo", run.get("served_by").asText());
    assertEquals("demo", run.get("pool").asText());
    assertEquals("broken-model", run.get("model").asText(), "the record keeps the model the client asked for");

    var stream = api.postStream("/v1/chat/completions", """
        {"model": "broken-model", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 6, "temperature": 0, "stream": true,
         "stream_options": {"include_usage": true}}""");
    assertEquals(200, stream.statusCode());
    assertEquals("pool:demo", stream.headers().firstValue("x-dalang-served-by").orElseThrow());
    List<String> events = ApiClient.sseData(stream.body());
    assertEquals("[DONE]", events.get(events.size() - 1));
    assertEquals(6, ApiClient.json(events.get(events.size() - 2)).at("/usage/completion_tokens").asInt());
    for (String e : events.subList(0, events.size() - 1)) assertEquals("dalang-demo", ApiClient.json(e).get("model").asText(), e);
    assertEquals(before + 2, fallbacks("pool:broken", "pool:demo", "no_ready_slot"));
  }

  @Test
  void aProviderWithItsKeyIsTheLastFallback() throws Exception {
    setFallbacks("[" + remoteTarget("backup-llm") + "]");

    var stream = api.postStream("/v1/completions", completion(true, 5));
    assertEquals(200, stream.statusCode());
    assertEquals("remote:backup-llm", stream.headers().firstValue("x-dalang-served-by").orElseThrow());
    String runId = stream.headers().firstValue("x-dalang-run-id").orElseThrow();
    List<String> events = ApiClient.sseData(stream.body());
    assertEquals("[DONE]", events.get(events.size() - 1));
    JsonNode last = ApiClient.json(events.get(events.size() - 2));
    assertEquals(5, last.at("/usage/completion_tokens").asInt());
    assertEquals("cmpl-" + runId, last.get("id").asText(), "Dalang renders the remote stream as its own");
    assertEquals("tiny", last.get("model").asText(), "the provider's model, which the rule accepted for broken-model");

    var whole = api.post("/v1/completions", completion(false, 4));
    assertEquals(200, whole.statusCode(), whole.body());
    assertEquals("remote:backup-llm", whole.headers().firstValue("x-dalang-served-by").orElseThrow());
    JsonNode run = api.awaitRun(whole.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertEquals("remote:backup-llm", run.get("served_by").asText());
    assertEquals("remote", run.get("engine").asText());
    assertEquals(4, run.get("completion_tokens").asInt());
  }

  @Test
  void aRemoteEndpointRefusingTheKeyFailsTheRunWithoutShowingAnyKey() throws Exception {
    setFallbacks("[" + remoteTarget("wrong-llm") + "]");

    var r = api.post("/v1/completions", completion(false, 4));
    assertEquals(502, r.statusCode(), r.body());
    assertEquals("engine_failed", ApiClient.json(r.body()).at("/error/code").asText());
    assertTrue(r.body().contains("wrong-llm"), r.body());
    assertFalse(r.body().contains(REMOTE_KEY), "no key in the error: " + r.body());
    JsonNode run = api.awaitRun(r.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertEquals("remote:wrong-llm", run.get("served_by").asText(), "the last target tried");
    assertFalse(Files.readString(data.resolve("d").resolve("runs").resolve("runs.jsonl")).contains(REMOTE_KEY));
  }

  @Test
  void aNonRetriableErrorOfTheRunDoesNotFallBack() throws Exception {
    setFallbacks("[" + remoteTarget("backup-llm") + "]");
    double before = fallbacks("pool:demo", "remote:backup-llm", "context_length_exceeded");

    // The demo pool's slots hold 4096 tokens: the run is the client's to fix, not a target's to retry.
    var r = api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"hi\", \"max_tokens\": 100000}");
    assertEquals(400, r.statusCode(), r.body());
    assertEquals("context_length_exceeded", ApiClient.json(r.body()).at("/error/code").asText());
    assertEquals("pool:demo", r.headers().firstValue("x-dalang-served-by").orElseThrow());
    JsonNode run = api.awaitRun(r.headers().firstValue("x-dalang-run-id").orElseThrow(), Duration.ofSeconds(10));
    assertEquals("pool:demo", run.get("served_by").asText());
    assertEquals(before, fallbacks("pool:demo", "remote:backup-llm", "context_length_exceeded"));
  }

  @Test
  void fallbackTargetsAreValidatedAndReadBackWithProviderNamesOnly() throws Exception {
    var foreign = api.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": [{\"pool\": \"not-ours\"}]}");
    assertEquals(400, foreign.statusCode(), foreign.body());
    var withUrl = api.send("PUT", "/admin/v1/tenants/demo/fallbacks",
        "{\"targets\": [{\"name\": \"x\", \"base_url\": \"http://example.com/v1\", \"model\": \"m\"}]}");
    assertEquals(400, withUrl.statusCode(), withUrl.body());
    assertEquals("invalid_request", ApiClient.json(withUrl.body()).at("/error/code").asText());
    var unknown = api.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": [" + remoteTarget("no-such-provider") + "]}");
    assertEquals(400, unknown.statusCode(), unknown.body());
    assertEquals("targets[0].provider", ApiClient.json(unknown.body()).at("/error/param").asText());

    setFallbacks("[{\"pool\": \"demo\"}, " + remoteTarget("backup-llm") + "]");
    JsonNode read = ApiClient.json(api.get("/admin/v1/tenants/demo/fallbacks").body());
    assertEquals("pool:demo", read.at("/targets/0/target").asText());
    assertEquals("remote:backup-llm", read.at("/targets/1/target").asText());
    assertEquals("backup-llm", read.at("/targets/1/provider").asText());
    assertFalse(read.toString().contains(REMOTE_KEY));
  }
}
