package io.dalang.runtime.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.Digests;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.NodeOptions;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A control node and a GPU node with their own data dirs in one JVM (cluster TLS off, which the cluster
 * tests cover): a catalog version prefetched onto the GPU node is pulled before any replica needs it,
 * shows in the fleet's model caches, and a pool on it then starts on that node from the cache.
 */
class ModelPrefetchEndToEndTest {
  @TempDir Path dir;

  @Test
  void aPrefetchedVersionIsPulledShownInTheFleetAndServedFromTheCache() throws Exception {
    Path model = dir.resolve("origin").resolve("tiny.gguf");
    TinyModel.write(new TinyModel.Spec(11, 2, 64, 4, 4, 128, 4096, GgmlType.F32), model);
    String digest = Digests.sha256(model);
    Path controlConf = Files.writeString(dir.resolve("control.conf"), """
        dalang.node.roles = ["control"]
        dalang.cluster.tls = off
        dalang.demo.enabled = false
        dalang.placement.reconcile-interval = 1 s
        dalang.placement.settle = 1 s
        """);
    Path gpuConf = Files.writeString(dir.resolve("gpu.conf"), "dalang.cluster.tls = off\n");
    try (var control = DalangNode.start(new ServeOptions(dir.resolve("control"), 0, 0, 0, controlConf, null, null), System.out)) {
      int clusterPort = control.system().address().getPort().orElseThrow();
      try (var gpu = DalangNode.startNode(new NodeOptions(List.of("127.0.0.1:" + clusterPort), 0, dir.resolve("gpu"), "cpu0:cpu:2048", gpuConf))) {
        var admin = new ApiClient(control.httpPort(), Files.readString(dir.resolve("control").resolve("admin.key")).strip());
        var added = ApiClient.json(admin.post("/admin/v1/models", "{\"name\": \"tiny\", \"from\": \"" + model + "\"}").body());
        admin.awaitJson("/admin/v1/model-imports/" + added.get("id").asText(), v -> v.path("status").asText().equals("done"), Duration.ofSeconds(90));

        // The GPU node's cache is known to the control node once the receptionist has spread its registration.
        admin.awaitJson("/admin/v1/fleet", f -> f.path("model_caches").size() == 1, Duration.ofSeconds(90));
        // Before any pool: the GPU node pulls the version into its own cache.
        var prefetch = admin.post("/admin/v1/models/tiny/prefetch", "{}");
        assertEquals(202, prefetch.statusCode(), prefetch.body());
        var answer = ApiClient.json(prefetch.body());
        assertEquals("v1", answer.get("version").asText());
        assertEquals(gpu.nodeId(), answer.get("nodes").get(0).get("node_id").asText());
        assertTrue(answer.get("nodes").get(0).get("accepted").asBoolean());
        Path cached = dir.resolve("gpu").resolve("model-cache").resolve("sha256").resolve(digest);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.isRegularFile(cached) && System.nanoTime() < end) Thread.sleep(100);
        assertEquals(digest, Digests.sha256(cached), "pulled and verified into the GPU node's own data dir");
        var fleet = admin.awaitJson("/admin/v1/fleet", f -> f.path("model_caches").size() == 1
            && f.path("model_caches").get(0).path("blobs").size() == 1, Duration.ofSeconds(90));
        assertEquals(digest, fleet.get("model_caches").get(0).get("blobs").get(0).get("sha256").asText());
        assertEquals(Files.size(model), fleet.get("model_caches").get(0).get("used_bytes").asLong());
        assertEquals(404, admin.post("/admin/v1/models/tiny/prefetch", "{\"version\": \"v7\"}").statusCode());
        assertEquals(404, admin.post("/admin/v1/models/tiny/prefetch", "{\"pool\": \"nope\"}").statusCode());

        // A pool on the version: its replica goes to the GPU node and loads the cached blob.
        assertEquals(201, admin.post("/admin/v1/pools", "{\"id\": \"p\", \"model\": \"tiny\", \"parallel\": 1, \"context_per_sequence\": 1024, "
            + "\"threads\": 1}").statusCode());
        var tenant = admin.post("/admin/v1/tenants", "{\"id\": \"t\", \"display_name\": \"T\", \"pools\": [\"p\"]}");
        assertEquals(201, tenant.statusCode(), tenant.body());
        var key = ApiClient.json(admin.post("/admin/v1/tenants/t/keys", "{\"key_id\": \"k\", \"role\": \"tenant-user\"}").body()).get("key").asText();
        admin.awaitJson("/admin/v1/pools/p", p -> p.path("slots").size() == 1 && p.path("slots").get(0).path("state").asText().equals("Ready"), Duration.ofSeconds(90));
        var completion = admin.withKey(key).post("/v1/completions", "{\"model\": \"tiny\", \"prompt\": \"Hi\", \"max_tokens\": 2}");
        assertEquals(200, completion.statusCode(), completion.body());
        try (var files = Files.list(dir.resolve("gpu").resolve("model-cache").resolve("sha256"))) {
          assertEquals(1, files.count(), "no second copy");
        }
      }
    }
  }
}
