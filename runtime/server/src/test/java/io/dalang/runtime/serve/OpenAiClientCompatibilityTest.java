package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.runtime.testing.ApiClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The official OpenAI client (the Node library, from the npm registry, unmodified) against a running
 * Dalang: whole and streamed chat, text completions, model listing and typed errors.
 */
class OpenAiClientCompatibilityTest {
  static final String CLIENT = "openai@6.49.0";

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) if (Files.isExecutable(Path.of(dir, tool))) return true;
    return false;
  }

  /** The client installed once into the Dalang cache, keyed by its version. */
  static Path clientDir() throws Exception {
    Path dir = EngineProvisioner.defaultCacheRoot().resolve("npm").resolve(CLIENT.replace('@', '-'));
    if (!Files.isRegularFile(dir.resolve("node_modules/openai/package.json"))) {
      Files.createDirectories(dir);
      var p = new ProcessBuilder("npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", dir.toString(), CLIENT)
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(5, TimeUnit.MINUTES) && p.exitValue() == 0, "npm install " + CLIENT + " failed: " + out);
    }
    for (String name : List.of("check.mjs", "surface.mjs", "embeddings.mjs")) {
      try (InputStream script = OpenAiClientCompatibilityTest.class.getResourceAsStream("/openai-client/" + name)) {
        Files.copy(script, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return dir;
  }

  /** Runs {@code check.mjs} from {@code dir} against {@code baseUrl} (with {@code env} added) and returns what it printed. */
  static JsonNode check(Path dir, String baseUrl, String key, Map<String, String> env) throws Exception {
    return run(dir, "check.mjs", baseUrl, key, env);
  }

  /** Runs {@code script} from {@code dir} against {@code baseUrl} (with {@code env} added) and returns what it printed. */
  static JsonNode run(Path dir, String script, String baseUrl, String key, Map<String, String> env) throws Exception {
    var pb = new ProcessBuilder(List.of("node", script)).directory(dir.toFile());
    pb.environment().put("OPENAI_BASE_URL", baseUrl);
    pb.environment().put("OPENAI_API_KEY", key);
    pb.environment().put("MODEL", "dalang-demo");
    pb.environment().putAll(env);
    var p = pb.redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(2, TimeUnit.MINUTES));
    assertEquals(0, p.exitValue(), out);
    return ApiClient.json(out);
  }

  @Test
  void theOfficialOpenAiClientWorksUnmodified(@TempDir Path data) throws Exception {
    Assumptions.assumeTrue(onPath("node") && onPath("npm"), "needs node and npm (.ci/run installs them)");
    Path dir = clientDir();
    String key = "oa-" + Long.toHexString(System.nanoTime());
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withDemoKey(key), System.out)) {
      new ApiClient(node.httpPort(), key).awaitReady(Duration.ofSeconds(90));
      JsonNode r = check(dir, "http://127.0.0.1:" + node.httpPort() + "/v1", key, Map.of());

      assertEquals("length", r.at("/chat/finish").asText());
      assertEquals(16, r.at("/chat/usage/completion_tokens").asInt());
      assertFalse(r.at("/chat/text").asText().isBlank());
      assertEquals(r.at("/chat/text").asText(), r.at("/stream/text").asText(), "streamed and whole answers agree");
      assertEquals("length", r.at("/stream/finish").asText());
      assertEquals(16, r.at("/stream/usage/completion_tokens").asInt(), "the usage chunk carries usage");
      assertEquals(19, r.at("/stream/chunks").asInt(), "role chunk, one per token, final chunk, usage chunk (include_usage)");
      assertEquals(8, r.at("/completion/usage/completion_tokens").asInt());
      assertEquals("dalang-demo", r.at("/models/0").asText());
      assertEquals(404, r.at("/notFound/status").asInt());
      assertEquals("model_not_found", r.at("/notFound/code").asText());
      assertEquals(401, r.at("/badKey/status").asInt());
    }
  }
}
