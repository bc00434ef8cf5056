package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /v1/embeddings} with the official OpenAI Node client as the oracle ({@code openai-client/embeddings.mjs})
 * and {@code /v1/rerank} over plain HTTP, on the demo node's embedding pool ({@code dalang-demo-embed}, the
 * random-weight demo model started for embeddings), on both engines. A request for the task a model's pool
 * does not serve is a typed 400 that the client raises as its API error.
 */
class EmbeddingsConformanceTest {
  /** The demo model's width ({@code TinyModel.DEMO}). */
  private static final int WIDTH = io.dalang.gguf.TinyModel.DEMO.width();

  private static JsonNode embeddings(Path data, String engine, java.util.function.Consumer<ApiClient> alsoOverHttp) throws Exception {
    Assumptions.assumeTrue(OpenAiClientCompatibilityTest.onPath("node") && OpenAiClientCompatibilityTest.onPath("npm"),
        "needs node and npm (.ci/run installs them)");
    Path dir = OpenAiClientCompatibilityTest.clientDir();
    String key = "em-" + Long.toHexString(System.nanoTime());
    if (engine.equals("llama-server")) TestModels.llamaServer();
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withEngine(engine).withDemoKey(key), System.out)) {
      var api = new ApiClient(node.httpPort(), key);
      api.awaitReady(Duration.ofSeconds(120));
      awaitEmbeddingSlot(api);
      alsoOverHttp.accept(api);
      return OpenAiClientCompatibilityTest.run(dir, "embeddings.mjs", "http://127.0.0.1:" + node.httpPort() + "/v1", key,
          Map.of("MODEL", "dalang-demo-embed", "CHAT_MODEL", "dalang-demo"));
    }
  }

  /** The embedding pool's slot starts beside the demo pool's: ready once it answers. */
  private static void awaitEmbeddingSlot(ApiClient api) throws Exception {
    long until = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      var r = api.post("/v1/embeddings", "{\"model\": \"dalang-demo-embed\", \"input\": \"warm\"}");
      if (r.statusCode() == 200) return;
      assertTrue(r.statusCode() == 503 && System.nanoTime() < until, r.statusCode() + " " + r.body());
      Thread.sleep(200);
    }
  }

  @Test
  void llamaServerEmbedsForTheOfficialClientAndRefusesRerankOnAModelWithoutAHead(@TempDir Path data) throws Exception {
    JsonNode r = embeddings(data, "llama-server", EmbeddingsConformanceTest::rerankIsRefused);
    assertEmbeddings(r);
  }

  @Test
  void theInProcessEngineEmbedsForTheOfficialClient(@TempDir Path data) throws Exception {
    JsonNode r = embeddings(data, "llama-inprocess", EmbeddingsConformanceTest::rerankIsRefused);
    assertEmbeddings(r);
  }

  private static void assertEmbeddings(JsonNode r) {
    // a string: one vector of the model's width, with usage counting the input's tokens
    JsonNode single = r.at("/single");
    assertEquals(1, single.at("/data").size(), r.toString());
    assertEquals(WIDTH, single.at("/data/0/embedding").size());
    assertEquals("dalang-demo-embed", single.at("/model").asText());
    assertTrue(single.at("/usage/prompt_tokens").asInt() > 0, single.at("/usage").toString());
    assertEquals(single.at("/usage/prompt_tokens").asInt(), single.at("/usage/total_tokens").asInt());

    // the same input gives the same vector, and the client's default (base64) decodes to the floats asked
    // for as floats: to float precision, since llama-server sums a sequence's values in batches whose shape
    // depends on what else runs (the in-process engine runs one input at a time and is exact)
    float[] v = floats(single.at("/data/0/embedding"));
    assertArrayEquals(v, floats(r.at("/again/data/0/embedding")), 1e-5f);
    assertEquals("number", r.at("/floats/type").asText(), r.at("/floats").toString());
    assertArrayEquals(v, floats(r.at("/floats/data/0/embedding")), 1e-5f);

    // an array: one vector per input, each with its index, the one equal input giving the same vector
    JsonNode array = r.at("/array/data");
    assertEquals(3, array.size(), r.at("/array").toString());
    for (int i = 0; i < 3; i++) {
      assertEquals(i, array.get(i).at("/index").asInt());
      assertEquals(WIDTH, array.get(i).at("/embedding").size());
    }
    assertArrayEquals(v, floats(array.get(2).at("/embedding")), 1e-5f);
    assertTrue(!array.get(0).at("/embedding").equals(array.get(1).at("/embedding")), "different inputs, different vectors");

    // dimensions other than the model's: a typed 400 naming the parameter
    assertEquals(400, r.at("/dimensions/error/status").asInt(), r.at("/dimensions").toString());
    assertEquals("unsupported_parameter", r.at("/dimensions/error/code").asText());
    assertEquals("dimensions", r.at("/dimensions/error/param").asText());

    // each model serves its pool's task only
    for (String part : new String[] {"chatModel", "chatToEmbedModel"}) {
      JsonNode e = r.at("/" + part + "/error");
      assertEquals(400, e.at("/status").asInt(), part + ": " + r.at("/" + part));
      assertEquals("unsupported_parameter", e.at("/code").asText(), part + ": " + e);
      assertEquals("model", e.at("/param").asText(), part + ": " + e);
    }
    assertTrue(r.at("/chatModel/error/message").asText().contains("/v1/embeddings"), r.at("/chatModel").toString());
  }

  /** No demo model reranks (the tiny llama has no classification head): a typed 400 on both, never made-up scores. */
  private static void rerankIsRefused(ApiClient api) {
    try {
      for (String model : new String[] {"dalang-demo", "dalang-demo-embed"}) {
        var r = api.post("/v1/rerank", "{\"model\": \"" + model + "\", \"query\": \"fox\", \"documents\": [\"a fox\", \"a dog\"], \"top_n\": 1}");
        assertEquals(400, r.statusCode(), r.body());
        JsonNode e = ApiClient.json(r.body()).at("/error");
        assertEquals("unsupported_parameter", e.at("/code").asText(), r.body());
        assertTrue(e.at("/message").asText().contains("/v1/rerank"), r.body());
      }
      var bad = api.post("/v1/rerank", "{\"model\": \"dalang-demo-embed\", \"query\": \"fox\", \"documents\": []}");
      assertEquals(400, bad.statusCode(), bad.body());
      assertEquals("documents", ApiClient.json(bad.body()).at("/error/param").asText());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static float[] floats(JsonNode array) {
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) out[i] = (float) array.get(i).asDouble();
    return out;
  }
}
