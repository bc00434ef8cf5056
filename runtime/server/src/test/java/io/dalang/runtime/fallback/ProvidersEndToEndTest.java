package io.dalang.runtime.fallback;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.PoolSpec;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.provider.ProviderSpec;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.Digests;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attacks of issue 15 on fallbacks, each against a running node over loopback: a tenant-admin
 * pointing a fallback at a host of its choosing with a secret of its choosing, providers on private
 * addresses, fragments, redirects, and an upstream error body echoed to the client. Pool {@code broken}
 * never becomes Ready, so every completion on it falls back; the providers are plain HTTP listeners
 * started here: {@code upstream} (the provider's host) and {@code elsewhere} (where an attacker wants the key).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProvidersEndToEndTest {
  static final String DEMO_KEY = "pv-" + Long.toHexString(System.nanoTime());
  static final String PROVIDER_KEY = "provider-key-" + Long.toHexString(System.nanoTime());
  static final String MARKER = "INTERNAL-MARKER-" + Long.toHexString(System.nanoTime());
  @TempDir static Path data;
  DalangNode node;
  ApiClient tenantAdmin;
  ApiClient admin;
  HttpServer upstream;
  HttpServer elsewhere;
  /** Every request a listener got: {@code <path> <Authorization or -> }. */
  final List<String> upstreamSeen = new CopyOnWriteArrayList<>();
  final List<String> elsewhereSeen = new CopyOnWriteArrayList<>();

  @BeforeAll
  void start() throws Exception {
    upstream = listener(upstreamSeen);
    elsewhere = listener(elsewhereSeen);
    node = DalangNode.start(ServeOptions.forDataDir(data.resolve("d")).withPorts(0, 0).withDemoKey(DEMO_KEY), System.out);
    tenantAdmin = new ApiClient(node.httpPort(), DEMO_KEY);
    admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("d").resolve("admin.key")).strip());
    addBrokenPool();
    tenantAdmin.awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
    if (upstream != null) upstream.stop(0);
    if (elsewhere != null) elsewhere.stop(0);
  }

  /** A provider's stand-in: {@code /ok} streams two tokens, {@code /fail} a 500 with a marker, {@code /redirect} a 302 to {@code /ok}, {@code /nodata} a 200 without SSE. */
  private static HttpServer listener(List<String> seen) throws IOException {
    var s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    s.createContext("/", ex -> {
      seen.add(ex.getRequestURI().getPath() + " " + String.valueOf(ex.getRequestHeaders().getFirst("Authorization")));
      ex.getRequestBody().readAllBytes();
      String path = ex.getRequestURI().getPath();
      if (path.startsWith("/ok/")) {
        reply(ex, 200, "text/event-stream", """
            data: {"choices":[{"index":0,"text":"Hello","finish_reason":null}]}

            data: {"choices":[{"index":0,"text":" there","finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":2}}

            data: [DONE]

            """);
      } else if (path.startsWith("/fail/")) {
        reply(ex, 500, "application/json", "{\"error\": {\"message\": \"db at 10.0.0.7 said " + MARKER + "\"}}");
      } else if (path.startsWith("/redirect/")) {
        ex.getResponseHeaders().add("Location", "http://127.0.0.1:" + ex.getLocalAddress().getPort() + "/ok/v1/completions");
        reply(ex, 302, "text/plain", MARKER);
      } else {
        reply(ex, 200, "text/plain", "no events here " + MARKER + "\n");
      }
    });
    s.start();
    return s;
  }

  private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", type);
    ex.sendResponseHeaders(status, b.length);
    try (var out = ex.getResponseBody()) {
      out.write(b);
    }
  }

  /** Pool {@code broken}: the tiny model, its digest recorded, then the file damaged, so its engine never starts. */
  private void addBrokenPool() throws Exception {
    Path model = data.resolve("broken.gguf");
    TinyModel.write(TinyModel.DEMO, model);
    String digest = Digests.sha256(model);
    try (var f = new RandomAccessFile(model.toFile(), "rw")) {
      FallbackEndToEndTest.damage(f);
    }
    var sharding = ClusterSharding.get(node.system());
    var spec = new PoolSpec("broken-model", model.toString(), digest, "llama-inprocess", 1, 1024, 1, 1);
    sharding.entityRefFor(PoolEntity.ENTITY_KEY, "broken").<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.CreatePool(spec, r),
        Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
    sharding.entityRefFor(TenantEntity.ENTITY_KEY, "demo").<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.GrantPool("broken", r),
        Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  private String base(HttpServer s, String path) {
    return "http://127.0.0.1:" + s.getAddress().getPort() + path;
  }

  private HttpResponse<String> createProvider(String name, String baseUrl, boolean allowPrivate) throws Exception {
    return admin.post("/admin/v1/providers", "{\"name\": \"" + name + "\", \"base_url\": \"" + baseUrl + "\", \"models\": [\"up-model\"], "
        + "\"api_key\": \"" + PROVIDER_KEY + "\", \"input_price_per_mtok\": 0.5, \"output_price_per_mtok\": 1.5, \"allow_private\": "
        + allowPrivate + "}");
  }

  /** Creates {@code name} (allowing loopback) unless it exists, and makes it the demo tenant's only fallback (for broken-model). */
  private void fallBackTo(String name, String path) throws Exception {
    if (admin.get("/admin/v1/providers/" + name).statusCode() == 404) {
      var r = createProvider(name, base(upstream, path), true);
      assertEquals(201, r.statusCode(), r.body());
    }
    var grant = admin.post("/admin/v1/tenants/demo/providers", "{\"provider\": \"" + name + "\"}");
    assertEquals(200, grant.statusCode(), grant.body());
    var set = tenantAdmin.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": [{\"provider\": \"" + name + "\", \"model\": \"up-model\", \"for_model\": \"broken-model\"}]}");
    assertEquals(200, set.statusCode(), set.body());
  }

  @Test
  void aTenantNamesOnlyTheProvidersThePlatformGrantedIt() throws Exception {
    var r = createProvider("costly", base(upstream, "/ok/v1"), true);
    assertEquals(201, r.statusCode(), r.body());
    var refused = tenantAdmin.send("PUT", "/admin/v1/tenants/demo/fallbacks",
        "{\"targets\": [{\"provider\": \"costly\", \"model\": \"up-model\", \"for_model\": \"broken-model\"}]}");
    error(refused, 400, "invalid_request");
    assertTrue(refused.body().contains("not granted to tenant demo"), refused.body());
    assertEquals(403, tenantAdmin.post("/admin/v1/tenants/demo/providers", "{\"provider\": \"costly\"}").statusCode(),
        "a tenant-admin cannot grant itself a provider");
    assertEquals(404, admin.post("/admin/v1/tenants/demo/providers", "{\"provider\": \"nobody\"}").statusCode());

    assertEquals(200, admin.post("/admin/v1/tenants/demo/providers", "{\"provider\": \"costly\"}").statusCode());
    var set = tenantAdmin.send("PUT", "/admin/v1/tenants/demo/fallbacks",
        "{\"targets\": [{\"pool\": \"demo\", \"for_model\": \"broken-model\"}, {\"provider\": \"costly\", \"model\": \"up-model\", \"for_model\": \"broken-model\"}]}");
    assertEquals(200, set.statusCode(), set.body());
    assertTrue(ApiClient.json(admin.get("/admin/v1/tenants/demo").body()).get("providers").toString().contains("costly"));

    // Revoked: it leaves the fallback list too, and the pool target stays.
    var revoked = admin.send("DELETE", "/admin/v1/tenants/demo/providers/costly", null);
    assertEquals(200, revoked.statusCode(), revoked.body());
    var fallbacks = tenantAdmin.get("/admin/v1/tenants/demo/fallbacks").body();
    assertFalse(fallbacks.contains("costly"), fallbacks);
    assertTrue(fallbacks.contains("pool:demo") || fallbacks.contains("\"demo\""), fallbacks);
    assertEquals(404, admin.send("DELETE", "/admin/v1/tenants/demo/providers/costly", null).statusCode());
  }

  private HttpResponse<String> complete() throws Exception {
    return tenantAdmin.post("/v1/completions", "{\"model\": \"broken-model\", \"prompt\": \"Once upon a time\", \"max_tokens\": 4, \"stream\": false}");
  }

  private static JsonNode error(HttpResponse<String> r, int status, String code) throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = ApiClient.json(r.body()).get("error");
    assertEquals(code, e.get("code").asText(), r.body());
    return e;
  }

  @Test
  void aTenantAdminCannotPointAFallbackAtAUrlWithATenantSecret() throws Exception {
    var secret = tenantAdmin.send("PUT", "/admin/v1/tenants/demo/secrets/fallback/llm-key", "{\"value\": \"tenant-secret-value-1\"}");
    assertEquals(200, secret.statusCode(), secret.body());
    var r = tenantAdmin.send("PUT", "/admin/v1/tenants/demo/fallbacks", "{\"targets\": [{\"name\": \"x\", \"base_url\": \""
        + base(elsewhere, "/v1") + "\", \"model\": \"m\", \"api_key_secret\": \"fallback/llm-key\"}]}");
    assertEquals("targets[0].base_url", error(r, 400, "invalid_request").get("param").asText());
    assertEquals(403, tenantAdmin.post("/admin/v1/providers", "{\"name\": \"mine\", \"base_url\": \"" + base(elsewhere, "/v1")
        + "\", \"models\": [\"m\"], \"allow_private\": true}").statusCode(), "only a platform-admin creates providers");
    assertEquals(403, tenantAdmin.get("/admin/v1/providers").statusCode());
    assertTrue(elsewhereSeen.isEmpty(), elsewhereSeen.toString());
  }

  @Test
  void aProviderOnLoopbackIsRefusedAtCreationWithoutAllowPrivate() throws Exception {
    var r = createProvider("loop", base(upstream, "/ok/v1"), false);
    JsonNode e = error(r, 400, "invalid_request");
    assertEquals("base_url", e.get("param").asText());
    assertTrue(e.get("message").asText().contains("loopback"), e.toString());
    error(createProvider("meta", "http://169.254.169.254/latest", true), 400, "invalid_request");
    assertEquals(404, admin.get("/admin/v1/providers/loop").statusCode());
  }

  @Test
  void aProviderOnLoopbackWithoutAllowPrivateIsRefusedAtConnectTime() throws Exception {
    // As if its name had resolved to a public address when it was created (DNS rebinding): the entity, not the API.
    var spec = new ProviderSpec(base(upstream, "/ok/v1"), List.of("up-model"), 0, null, 0, 0, false);
    ClusterSharding.get(node.system()).entityRefFor(ProviderEntity.ENTITY_KEY, "rebound").<ProviderEntity.ProviderView>askWithStatus(
        r -> new ProviderEntity.CreateProvider(spec, r), Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
    fallBackTo("rebound", "/ok/v1");
    int before = upstreamSeen.size();

    JsonNode e = error(complete(), 503, "engine_unavailable");
    assertTrue(e.get("message").asText().contains("loopback"), e.toString());
    assertEquals(before, upstreamSeen.size(), "no connection was made");
  }

  @Test
  void withAllowPrivateTheFallbackWorksAndTheKeyGoesToTheProvidersHostOnly() throws Exception {
    fallBackTo("local", "/ok/v1");
    var r = complete();
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("remote:local", r.headers().firstValue("x-dalang-served-by").orElseThrow());
    assertEquals("Hello there", ApiClient.json(r.body()).at("/choices/0/text").asText());
    assertTrue(upstreamSeen.contains("/ok/v1/completions Bearer " + PROVIDER_KEY), upstreamSeen.toString());

    // Moving the provider elsewhere without giving the key for there is refused: the key stays bound to its host.
    var moved = admin.send("PATCH", "/admin/v1/providers/local", "{\"base_url\": \"" + base(elsewhere, "/ok/v1") + "\"}");
    assertEquals("api_key", error(moved, 400, "invalid_request").get("param").asText());
    var read = admin.get("/admin/v1/providers/local");
    assertEquals(200, read.statusCode(), read.body());
    assertFalse(read.body().contains(PROVIDER_KEY), read.body());
    assertEquals(base(upstream, "/ok/v1"), ApiClient.json(read.body()).get("base_url").asText());
    assertTrue(elsewhereSeen.isEmpty(), elsewhereSeen.toString());
  }

  @Test
  void anUpstreamErrorBodyNeverReachesTheClient() throws Exception {
    fallBackTo("failing", "/fail/v1");
    var r = complete();
    JsonNode e = error(r, 502, "engine_failed");
    assertTrue(e.get("message").asText().contains("HTTP 500"), e.toString());
    assertFalse(r.body().contains(MARKER), r.body());
    assertFalse(r.body().contains("10.0.0.7"), r.body());
  }

  @Test
  void aRedirectIsNotFollowed() throws Exception {
    fallBackTo("redirecting", "/redirect/v1");
    int okBefore = (int) upstreamSeen.stream().filter(s -> s.startsWith("/ok/")).count();
    var r = complete();
    JsonNode e = error(r, 502, "engine_failed");
    assertTrue(e.get("message").asText().contains("HTTP 302"), e.toString());
    assertFalse(r.body().contains(MARKER), r.body());
    assertEquals(okBefore, upstreamSeen.stream().filter(s -> s.startsWith("/ok/")).count());
  }

  @Test
  void a200WithoutSseDataFailsTyped() throws Exception {
    fallBackTo("silent", "/nodata/v1");
    var r = complete();
    JsonNode e = error(r, 502, "engine_failed");
    assertTrue(e.get("message").asText().contains("without any SSE data"), e.toString());
    assertFalse(r.body().contains(MARKER), r.body());
  }

  @Test
  void aFragmentUrlIsRefused() throws Exception {
    var r = createProvider("fragment", base(upstream, "/ok/v1#/../../admin"), true);
    assertEquals("base_url", error(r, 400, "invalid_request").get("param").asText());
    var userinfo = createProvider("userinfo", "http://user:pw@127.0.0.1:1/v1", true);
    assertEquals("base_url", error(userinfo, 400, "invalid_request").get("param").asText());
  }

  @Test
  void providersAreAuditedAndReadableByOperatorsWithoutTheirKey() throws Exception {
    fallBackTo("audited", "/ok/v1");
    var issued = admin.post("/admin/v1/platform/keys", "{\"key_id\": \"oncall-pv\", \"role\": \"operator\"}");
    assertEquals(201, issued.statusCode(), issued.body());
    var operator = admin.withKey(ApiClient.json(issued.body()).get("key").asText());
    var list = operator.get("/admin/v1/providers");
    assertEquals(200, list.statusCode(), list.body());
    assertFalse(list.body().contains(PROVIDER_KEY));
    assertEquals(403, operator.send("DELETE", "/admin/v1/providers/audited", null).statusCode());
    assertEquals(200, admin.send("DELETE", "/admin/v1/providers/audited", null).statusCode());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String audit;
    do {
      audit = admin.get("/admin/v1/audit?action=provider.create&limit=1000").body() + admin.get("/admin/v1/audit?action=provider.delete").body();
      if (audit.contains("\"audited\"") && audit.contains("provider.delete")) break;
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    assertTrue(audit.contains("\"allow_private\":\"true\""), audit);
    assertTrue(audit.contains("provider.delete"), audit);
    assertFalse(audit.contains(PROVIDER_KEY), audit);
  }
}
