package io.dalang.runtime.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.engine.Digests;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import io.dalang.engine.quantize.LlamaQuantize;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.Main;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** A real sweep: llama-quantize makes the variants, each is served from a live slot on llama-server. */
class SweepEndToEndTest {
  @TempDir static Path dir;
  static Path base;

  @BeforeAll
  static void baseModel() throws Exception {
    base = dir.resolve("base.gguf");
    TinyModel.write(new TinyModel.Spec(7, 2, 256, 4, 4, 512, 2048, GgmlType.F32), base);
  }

  @Test
  void sweepsTwoQuantsAgainstTheReferenceAndWritesSummaryPlotsAndRecommendation() throws Exception {
    Path preset = dir.resolve("tiny.conf");
    Files.writeString(preset, """
        preset {
          seed = 5, threads = 2, affinity_policy = "none", warmup_steps = 1, max_tokens = 16, repeats = 1
          prompts = [
            { id = "arithmetic", text = "What is 17 multiplied by 23?" }
            { id = "story", text = "Write a short story about a lighthouse keeper." }
          ]
        }
        """);
    Path out = dir.resolve("out");
    var stdout = new ByteArrayOutputStream();
    PrintStream saved = System.out;
    int rc;
    // A running node whose catalog takes the variants (--add-to-catalog), with their lineage.
    Path nodeConf = Files.writeString(dir.resolve("node.conf"), "dalang.demo.embed-pool = \"\"\ndalang.demo.replicas = 0\n");
    JsonNode catalog;
    try (var node = DalangNode.start(new ServeOptions(dir.resolve("catalog-node"), 0, 0, 0, nodeConf, null, null), System.out)) {
      String key = Files.readString(dir.resolve("catalog-node").resolve("admin.key")).strip();
      try {
        System.setOut(new PrintStream(stdout, true));
        rc = new CommandLine(new Main()).execute("sweep", "--model", base.toString(), "--quants", "Q8_0,Q4_K_M", "--preset", preset.toString(),
            "--out", out.toString(), "--data-dir", dir.resolve("data").toString(), "--add-to-catalog", "tiny",
            "--url", "http://127.0.0.1:" + node.httpPort(), "--key", key);
      } finally {
        System.setOut(saved);
      }
      catalog = ApiClient.json(new ApiClient(node.httpPort(), key).get("/admin/v1/models/tiny").body());
    }
    assertEquals(0, rc, stdout.toString());
    assertTrue(stdout.toString().contains("recommendation:"), stdout.toString());
    assertTrue(stdout.toString().contains("catalog: Q4_K_M -> tiny@v3"), stdout.toString());
    var versions = catalog.get("versions");
    assertEquals(3, versions.size(), catalog.toString());
    assertEquals("F32", versions.get(0).get("quantization").asText());
    assertTrue(versions.get(0).get("parent").isNull(), "the reference is the root of the lineage");
    assertEquals("Q8_0 of tiny@v1", versions.get(1).get("parent").asText());
    assertEquals("Q4_K_M of tiny@v1", versions.get(2).get("parent").asText());
    assertEquals("Q4_K_M", versions.get(2).get("quantization").asText());
    int recommended = 0;
    for (JsonNode v : versions) {
      assertTrue(v.get("labels").get("sweep").asText().startsWith("sweep-"), v.toString());
      assertTrue(v.get("labels").has("adherence") && v.get("labels").has("tokens-per-second"), v.toString());
      if (v.get("labels").get("recommended").asText().equals("true")) recommended++;
    }
    assertEquals(1, recommended, "exactly the recommended variant is marked");

    var s = new ObjectMapper().readValue(out.resolve("summary.json").toFile(), SweepSummary.class);
    assertEquals(SweepSummary.SCHEMA_VERSION, s.schemaVersion());
    assertEquals("F32", s.reference());
    assertEquals(java.util.List.of("F32", "Q8_0", "Q4_K_M"), s.variants().stream().map(SweepSummary.Variant::name).toList());
    var ref = s.variant("F32");
    assertEquals(1.0, ref.adherence(), "the reference agrees with itself");
    assertEquals(2, ref.exactMatches());
    for (var v : s.variants()) {
      assertEquals(3, v.runsTotal(), v.name());
      assertEquals(2, v.runsValid(), v.name() + ": " + v.invalidReasons());
      assertEquals(Map.of("warmup", 1), v.invalidReasons(), v.name());
      assertTrue(v.tokensPerSecond() > 0, v.name());
      assertTrue(v.adherence() >= 0 && v.adherence() <= 1, v.name());
      assertEquals(Digests.sha256(Path.of(v.modelPath())), v.modelDigest(), v.name());
      assertEquals(2, v.prompts().size());
    }
    assertTrue(s.variant("Q8_0").tensorTypes().containsKey("Q8_0"), s.variant("Q8_0").tensorTypes().toString());
    assertTrue(s.variant("Q4_K_M").tensorTypes().containsKey("Q4_K"), s.variant("Q4_K_M").tensorTypes().toString());
    assertTrue(s.variant("Q4_K_M").fileBytes() < s.variant("Q8_0").fileBytes());

    var p = s.provenance();
    assertEquals("llama-server", p.engineKind());
    assertTrue(p.engineDigest().matches("[0-9a-f]{64}"), p.engineDigest());
    assertTrue(p.quantizeDigest().matches("[0-9a-f]{64}"), p.quantizeDigest());
    assertEquals(Digests.sha256(base), p.baseModelDigest());
    assertEquals("tiny", p.preset().name());
    assertEquals(5, p.preset().seed());
    assertEquals(2, p.preset().prompts());
    assertNotNull(p.machine().get("cpus"));

    assertNotNull(s.recommendation());
    assertNotNull(s.recommendation().variant(), "the reference at least reaches any floor");
    assertTrue(!s.frontier().isEmpty());

    String svg = Files.readString(out.resolve("frontier.svg"));
    for (var v : s.variants()) assertTrue(svg.contains(">" + v.name()), v.name() + " labelled in the SVG");
    var png = ImageIO.read(out.resolve("frontier.png").toFile());
    assertEquals(FrontierPlot.W, png.getWidth());
    assertTrue(Files.notExists(out.resolve("work")), "the variants' nodes leave no data dirs behind");
    assertTrue(Files.isRegularFile(dir.resolve("data").resolve("baselines").resolve(s.sweepId() + ".json")), "recorded as a baseline");
  }

  @Test
  void aSecondQuantizationOfTheSameBaseIsReused() throws Exception {
    var provisioner = new EngineProvisioner(EngineProvisioner.defaultCacheRoot(), m -> {});
    var entry = provisioner.ensureLlamaServer(EngineSource.parse("npm:node-llama-cpp@3.22.1"));
    var q = new LlamaQuantize(provisioner.binary(entry, "llama-quantize"));
    String digest = Digests.sha256(base);
    var first = q.quantize(base, digest, "q8_0", dir.resolve("variants"), 2);
    var second = q.quantize(base, digest, "Q8_0", dir.resolve("variants"), 2);
    assertEquals("Q8_0", first.type());
    assertTrue(second.reused());
    assertEquals(first.digest(), second.digest());
    var e = org.junit.jupiter.api.Assertions.assertThrows(io.dalang.engine.EngineException.class,
        () -> q.quantize(base, digest, "Q9_X", dir.resolve("variants"), 2));
    assertTrue(e.getMessage().contains("Q9_X"), e.getMessage());
  }
}
