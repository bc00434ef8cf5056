package io.dalang.runtime.serve;

import static io.dalang.runtime.serve.AdminApiEndToEndTest.error;
import static io.dalang.runtime.serve.AdminApiEndToEndTest.ok;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator adds a pool for a model file of their own through {@code /admin/v1/pools}, grants it to a
 * tenant, scales it up, and scales it down to zero while a run streams on it: the run finishes (the
 * retired replica drains first) and the replicas go.
 */
class PoolAdminEndToEndTest {
  @TempDir Path data;

  @Test
  void createsScalesUpAndDrainsAPoolDownToZeroWithoutCuttingARun() throws Exception {
    Path model = data.resolve("models-own").resolve("tiny-2.gguf");
    TinyModel.write(new TinyModel.Spec(7, 2, 64, 4, 4, 128, 8192, GgmlType.F32), model);
    try (var node = DalangNode.start(ServeOptions.forDataDir(data.resolve("d")).withPorts(0, 0), System.out)) {
      var admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("d").resolve("admin.key")).strip());
      var user = new ApiClient(node.httpPort(), Files.readString(data.resolve("d").resolve("demo.key")).strip());
      admin.awaitReady(Duration.ofSeconds(90));

      // Bad definitions are typed 4xx naming the field; nothing is created.
      error(admin.post("/admin/v1/pools", "{\"id\": \"own\", \"model_id\": \"tiny-2\"}"), 400, "invalid_request");
      Path notGguf = Files.writeString(data.resolve("notes.txt"), "not a model");
      var e = error(admin.post("/admin/v1/pools", "{\"id\": \"own\", \"model_id\": \"tiny-2\", \"model_path\": \"" + notGguf + "\"}"), 400,
          "invalid_request");
      assertEquals("model_path", e.get("param").asText());
      e = error(admin.post("/admin/v1/pools", "{\"id\": \"own\", \"model_id\": \"tiny-2\", \"model_path\": \"" + model
          + "\", \"engine\": \"vllm\"}"), 400, "invalid_request");
      assertEquals("engine", e.get("param").asText());
      error(user.post("/admin/v1/pools", "{\"id\": \"own\", \"model_id\": \"tiny-2\", \"model_path\": \"" + model + "\"}"), 403,
          "permission_denied");
      error(admin.send("PATCH", "/admin/v1/pools/own", "{\"replicas\": 2}"), 404, "not_found");

      var created = ok(admin.post("/admin/v1/pools", "{\"id\": \"own\", \"model_id\": \"tiny-2\", \"model_path\": \"" + model
          + "\", \"replicas\": 1, \"parallel\": 2, \"context_per_sequence\": 4096, \"threads\": 1}"), 201);
      assertEquals(1, created.get("replicas").asInt());
      assertEquals(64, created.get("model_digest").asText().length());
      error(admin.post("/admin/v1/pools", "{\"id\": \"own\", \"model_id\": \"tiny-2\", \"model_path\": \"" + model + "\"}"), 409, "conflict");
      ok(admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"own\"}"), 200);

      awaitPool(admin, p -> readySlots(p) == 1);
      String completion = "{\"model\": \"tiny-2\", \"prompt\": \"Hello\", \"max_tokens\": 4, \"temperature\": 0}";
      assertEquals(200, user.post("/v1/completions", completion).statusCode());
      assertTrue(user.get("/v1/models").body().contains("tiny-2"));

      error(admin.send("PATCH", "/admin/v1/pools/own", "{\"replicas\": -1}"), 400, "invalid_request");
      assertEquals(2, ok(admin.send("PATCH", "/admin/v1/pools/own", "{\"replicas\": 2}"), 200).get("replicas").asInt());
      awaitPool(admin, p -> readySlots(p) == 2);
      var pools = ok(admin.get("/admin/v1/pools"), 200).get("pools");
      assertEquals(List.of("demo", "demo-embed", "own"), ids(pools), "the demo also made its embedding pool");

      // A long run streams on one of the two replicas while the pool goes to zero.
      var stream = user.postStream("/v1/completions", "{\"model\": \"tiny-2\", \"prompt\": \"Once\", \"max_tokens\": 1500, "
          + "\"temperature\": 0, \"stream\": true}");
      assertEquals(200, stream.statusCode());
      var events = CompletableFuture.supplyAsync(() -> {
        try {
          return ApiClient.sseData(stream.body());
        } catch (Exception ex) {
          throw new IllegalStateException(ex);
        }
      });
      assertEquals(0, ok(admin.send("PATCH", "/admin/v1/pools/own", "{\"replicas\": 0}"), 200).get("replicas").asInt());
      List<String> data = events.get(120, TimeUnit.SECONDS);
      assertEquals("[DONE]", data.get(data.size() - 1), "the stream ended normally");
      String finish = null;
      for (String d : data) {
        if (d.equals("[DONE]")) continue;
        JsonNode chunk = ApiClient.json(d);
        assertTrue(chunk.get("error") == null, "no error event: " + d);
        if (chunk.path("choices").path(0).hasNonNull("finish_reason")) finish = chunk.path("choices").path(0).get("finish_reason").asText();
      }
      assertEquals("length", finish, "the run went to its max_tokens: " + data.subList(Math.max(0, data.size() - 3), data.size()));
      awaitPool(admin, p -> p.get("slots").isEmpty());
      assertEquals(200, user.post("/v1/completions", completion.replace("tiny-2", "dalang-demo")).statusCode(),
          "the demo pool is untouched");
    }
  }

  private static int readySlots(JsonNode pool) {
    int n = 0;
    for (JsonNode s : pool.get("slots")) if (s.get("state").asText().equals("Ready")) n++;
    return n;
  }

  private static List<String> ids(JsonNode pools) {
    var out = new ArrayList<String>();
    pools.forEach(p -> out.add(p.get("id").asText()));
    return out;
  }

  private static void awaitPool(ApiClient admin, Predicate<JsonNode> done) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    JsonNode pool = null;
    while (System.nanoTime() < deadline) {
      pool = ok(admin.get("/admin/v1/pools/own"), 200);
      if (done.test(pool)) return;
      Thread.sleep(200);
    }
    throw new AssertionError("pool 'own' did not get there in time: " + pool);
  }
}
