package io.dalang.runtime.determinism;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dalang.engine.Digests;
import io.dalang.runtime.Main;
import io.dalang.testing.TestModels;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The determinism suite: the shipped seed corpus replayed twice, streaming and not, through a real node
 * on each engine gives byte-identical streams and records with equal determinism signals; a stream
 * that differs from a stored report with the same signals fails the check, naming entry, token and
 * byte; a report of another engine is not comparable.
 */
class DeterminismSuiteTest {
  static final Path CORPUS = Path.of("..", "..", "config", "determinism", "corpus.json");
  static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  /** The in-process engine's report of the shipped corpus. */
  static JsonNode inProcess;
  static Run inProcessRun;

  record Run(int rc, String out, String err) {}

  static Run check(String... args) {
    return check(dir, args);
  }

  /** {@code dalang determinism check ARGS} in this JVM, its reports by default under {@code dataDir}. */
  static Run check(Path dataDir, String... args) {
    var out = new StringWriter();
    var err = new StringWriter();
    var cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    // --verbose: the check leaves this JVM's log levels alone
    var all = new java.util.ArrayList<>(List.of("determinism", "check", "--verbose", "--data-dir", dataDir.resolve("data").toString()));
    all.addAll(List.of(args));
    int rc = cli.execute(all.toArray(String[]::new));
    return new Run(rc, out.toString(), err.toString());
  }

  @BeforeAll
  static void replayOnTheInProcessEngine() throws Exception {
    Path report = dir.resolve("in-process.json");
    inProcessRun = check("--corpus", CORPUS.toString(), "--engine", "in-process", "--repeats", "2", "--out", report.toString());
    inProcess = JSON.readTree(report.toFile());
  }

  @Test
  void inProcessEngineReplaysTheCorpusTwiceByteIdenticalWithEqualSignals() throws Exception {
    assertEquals(0, inProcessRun.rc(), inProcessRun.out() + inProcessRun.err());
    assertCorpusIdentical(inProcess, "llama-inprocess");
    String modelDigest = Digests.sha256(TestModels.demoModel()); // the same generated demo model the node made
    for (JsonNode e : inProcess.get("entries")) assertEquals(modelDigest, e.at("/signals/model_digest").asText(), e.get("id").asText());
    assertTrue(inProcessRun.out().contains("prompt-rivers"), inProcessRun.out());
  }

  @Test
  void llamaServerReplaysTheCorpusTwiceByteIdenticalAndAnInProcessReportIsNotComparable() throws Exception {
    TestModels.llamaServer(); // provisioned (or found in the cache) before the node starts
    Path report = dir.resolve("llama-server.json");
    Path golden = dir.resolve("in-process-golden.json");
    JSON.writeValue(golden.toFile(), inProcess);
    Run run = check("--corpus", CORPUS.toString(), "--engine", "llama-server", "--repeats", "2", "--out", report.toString(),
        "--against", golden.toString());
    assertEquals(0, run.rc(), "another engine's report gives no verdict, not a failure: " + run.out() + run.err());
    JsonNode r = JSON.readTree(report.toFile());
    assertCorpusIdentical(r, "llama-server");
    assertEquals(inProcess.at("/entries/0/signals/model_digest"), r.at("/entries/0/signals/model_digest"), "the same generated model");
    assertNotEquals(inProcess.at("/entries/0/signals/engine_digest"), r.at("/entries/0/signals/engine_digest"));
    for (JsonNode a : r.at("/against/entries")) {
      assertEquals("not_comparable", a.get("status").asText(), a.toString());
      assertTrue(a.get("reason").asText().startsWith("engine, engine_digest differ"), a.toString());
    }
    assertTrue(run.out().contains("0 diverged, 8 not comparable"), run.out());
  }

  @Test
  void aStreamThatDiffersFromAStoredReportWithTheSameSignalsFailsTheCheckNamingEntryTokenAndByte() throws Exception {
    // A stored report in which prompt-rivers' fourth token differs, and chat-brief came from another model file.
    ObjectNode golden = inProcess.deepCopy();
    ObjectNode rivers = entry(golden, "prompt-rivers");
    ArrayNode pieces = (ArrayNode) rivers.get("pieces");
    String original = pieces.get(3).asText();
    pieces.set(3, JSON.getNodeFactory().textNode(original + "s"));
    ((ObjectNode) entry(golden, "chat-brief").get("signals")).put("model_digest", "0".repeat(64));
    Path goldenFile = dir.resolve("tampered.json");
    JSON.writeValue(goldenFile.toFile(), golden);
    Path corpus = dir.resolve("two.json"); // the same two entries as the shipped corpus: the request digests match
    ObjectNode two = (ObjectNode) JSON.readTree(CORPUS.toFile());
    ArrayNode kept = JSON.createArrayNode();
    for (JsonNode e : two.get("entries")) if (Set.of("prompt-rivers", "chat-brief").contains(e.get("id").asText())) kept.add(e);
    two.set("entries", kept);
    JSON.writeValue(corpus.toFile(), two);
    Path report = dir.resolve("against-tampered.json");

    Run run = check("--corpus", corpus.toString(), "--engine", "in-process", "--repeats", "1", "--out", report.toString(),
        "--against", goldenFile.toString());

    assertEquals(1, run.rc(), run.out() + run.err());
    int bytes = 0;
    for (int i = 0; i < 3; i++) bytes += pieces.get(i).asText().getBytes(StandardCharsets.UTF_8).length;
    bytes += original.getBytes(StandardCharsets.UTF_8).length; // the golden piece has one byte more than the stream's
    String expected = "entry prompt-rivers diverged from " + goldenFile + ": golden: stream differs at token 3, byte " + bytes;
    assertTrue(run.err().contains(expected), run.err());
    JsonNode r = JSON.readTree(report.toFile());
    assertEquals(false, r.get("passed").asBoolean());
    JsonNode a = r.at("/against/entries");
    assertEquals("diverged", a.get(0).get("status").asText());
    assertEquals(3, a.get(0).at("/divergence/token_index").asInt());
    assertEquals(bytes, a.get(0).at("/divergence/byte_offset").asInt());
    assertEquals("not_comparable", a.get(1).get("status").asText());
    assertTrue(a.get(1).get("reason").asText().startsWith("model_digest differ"), a.get(1).toString());
  }

  /** Every entry identical across its replays (2 repeats, streaming and not), with the signals of one engine build and model. */
  static void assertCorpusIdentical(JsonNode report, String engine) throws Exception {
    assertTrue(report.get("passed").asBoolean(), report.toString());
    var corpus = JSON.readTree(CORPUS.toFile()).get("entries");
    assertEquals(corpus.size(), report.get("entries").size());
    var digests = new HashSet<String>();
    for (int i = 0; i < corpus.size(); i++) {
      JsonNode e = report.get("entries").get(i);
      JsonNode c = corpus.get(i);
      String id = c.get("id").asText();
      assertEquals(id, e.get("id").asText());
      assertEquals("identical", e.get("status").asText(), e.toString());
      assertEquals(4, e.get("runs").asInt());
      assertEquals(0, e.get("divergences").size(), e.toString());
      assertEquals(c.get("max_tokens").asInt(), e.get("tokens").asInt(), id + ": the tiny model never stops early");
      JsonNode s = e.get("signals");
      assertEquals(engine, s.get("engine").asText());
      assertTrue(s.get("engine_digest").asText().matches("[0-9a-f]{64}"), s.toString());
      assertTrue(s.get("model_digest").asText().matches("[0-9a-f]{64}"), s.toString());
      assertTrue(!s.get("engine_version").asText().isBlank(), s.toString());
      JsonNode sampler = s.get("sampler");
      assertEquals(c.get("seed").asLong(), sampler.get("seed").asLong(), id);
      assertEquals(0.0, sampler.get("temperature").asDouble(), id);
      assertEquals(1.0, sampler.get("top_p").asDouble(), id);
      assertEquals(40, sampler.get("top_k").asInt(), id);
      assertEquals(0.05, sampler.get("min_p").asDouble(), id);
      assertEquals(1.0, sampler.get("repeat_penalty").asDouble(), id);
      assertEquals(c.get("max_tokens").asInt(), sampler.get("max_tokens").asInt(), id);
      digests.add(s.get("engine_digest").asText() + " " + s.get("model_digest").asText());
    }
    assertEquals(1, digests.size(), "one engine build and one model for the whole corpus: " + digests);
  }

  static ObjectNode entry(ObjectNode report, String id) {
    for (JsonNode e : report.get("entries")) if (e.get("id").asText().equals(id)) return (ObjectNode) e;
    throw new AssertionError("no entry " + id);
  }
}
