package io.dalang.runtime.compare;

import static io.dalang.runtime.sweep.Summaries.provenance;
import static io.dalang.runtime.sweep.Summaries.summary;
import static io.dalang.runtime.sweep.Summaries.variant;
import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.sweep.Summaries;
import io.dalang.runtime.testing.DalangCli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dalang compare} run in-process on summaries written to a temp dir. */
class CompareCommandTest {
  @TempDir Path dir;
  Path a;
  Path b;

  @BeforeEach
  void twoSweeps() throws Exception {
    a = Summaries.write(ComparisonTest.A, dir.resolve("a.json"));
    b = Summaries.write(ComparisonTest.B, dir.resolve("b.json"));
  }

  @Test
  void printsTalliesAndTopChangesAndExportsJsonAndCsvCarryingProvenance() throws Exception {
    Path json = dir.resolve("out/graph.json");
    Path csv = dir.resolve("out/graph.csv");
    Run r = dalang("compare", a.toString(), b.toString(), "--top-k", "2", "--export-json", json.toString(), "--export-csv", csv.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("  sweep-a  sweep-b  1/0/1              1/0/1      1/1/0        0/1/1\n"), r.out());
    assertTrue(r.out().contains("top 2 changes sweep-a -> sweep-b:\n  Q4_K_M  ttft_ms_p95        200 -> 140  -30%  win\n"
        + "  Q4_K_M  tokens_per_second  40 -> 50    +25%  win\n"), r.out());
    assertTrue(!r.out().contains("warning"), r.out());

    JsonNode g = Json.MAPPER.readTree(json.toFile());
    assertEquals(2, g.get("nodes").size());
    assertEquals("abc1234", g.get("nodes").get(0).get("provenance").get("dalang_commit").asText());
    assertEquals("sha256:q4_k_m", g.get("nodes").get(1).get("model_digests").get("Q4_K_M").asText());
    JsonNode edge = g.get("edges").get(0);
    assertEquals(1, edge.get("tallies").get("ttft_ms_p95").get("losses").asInt());
    assertEquals(8, edge.get("cells").size());
    assertEquals(2, g.get("top").get(0).get("deltas").size());

    List<String> lines = Files.readAllLines(csv);
    List<String> comments = lines.stream().filter(l -> l.startsWith("# ")).toList();
    assertEquals(3, comments.size(), lines.toString());
    for (String sweep : List.of("sweep-a", "sweep-b")) {
      String stamp = comments.stream().filter(l -> l.startsWith("# sweep " + sweep + ": ")).findFirst().orElseThrow();
      for (String s : List.of("dalang_commit=abc1234", "engine=llama-server b4916", "engine_digest=sha256:engine", "preset=tiny-cpu",
          "prompts_digest=sha256:prompts", "base_model_digest=sha256:base", "model_digests=F16:sha256:f16;Q4_K_M:sha256:q4_k_m")) {
        assertTrue(stamp.contains(s), stamp + " lacks " + s);
      }
    }
    assertEquals("from,to,variant,metric,from_value,to_value,delta_pct,outcome,note", lines.get(3));
    assertEquals(4 + 8, lines.size());
    assertTrue(lines.contains("sweep-a,sweep-b,Q4_K_M,tokens_per_second,40,50,25,win,"), lines.toString());
    assertTrue(lines.contains("sweep-a,sweep-b,F16,ttft_ms_p95,300,330,10,loss,"), lines.toString());
  }

  @Test
  void warnsOfUnlikeProvenanceInTheOutputAndBothExportsButStillCompares() throws Exception {
    var s = ComparisonTest.B;
    Path other = Summaries.write(summary("sweep-other", "Q4_K_M", provenance("sha256:p2", "sha256:engine2", 2), s.variants().toArray(
        new io.dalang.protocols.sweep.SweepSummary.Variant[0])), dir.resolve("other.json"));
    Path json = dir.resolve("g.json");
    Path csv = dir.resolve("g.csv");
    Run r = dalang("compare", a.toString(), other.toString(), "--export-json", json.toString(), "--export-csv", csv.toString());
    assertEquals(0, r.code(), r.err());
    String warning = "warning: sweep-a -> sweep-other compares unlike with unlike: preset.prompts_digest sha256:prompts -> sha256:p2; "
        + "engine_digest sha256:engine -> sha256:engine2";
    assertTrue(r.out().contains(warning + "\n"), r.out());
    assertTrue(Files.readAllLines(csv).contains("# " + warning), Files.readString(csv));
    JsonNode diffs = Json.MAPPER.readTree(json.toFile()).get("edges").get(0).get("provenance_differences");
    assertEquals("preset.prompts_digest", diffs.get(0).get("field").asText());
    assertEquals("engine_digest", diffs.get(1).get("field").asText());
  }

  @Test
  void includeInvalidComparesVariantsWithoutValidRunsMarked() throws Exception {
    Path c = Summaries.write(summary("sweep-c", "F16", provenance(), variant("F16", 10, 20, 1.0, 300, 32), variant("Q4_K_M", 0, 0, 0, 0, 0)),
        dir.resolve("c.json"));
    Run skipped = dalang("compare", a.toString(), c.toString());
    assertEquals(0, skipped.code(), skipped.err());
    assertTrue(skipped.out().contains("skipped sweep-a -> sweep-c: Q4_K_M (no valid runs in sweep-c)\n"), skipped.out());
    Run included = dalang("compare", a.toString(), c.toString(), "--include-invalid");
    assertTrue(included.out().lines().anyMatch(l -> l.matches(" +Q4_K_M +tokens_per_second +40 -> 0 +-100% +loss \\(no valid runs in sweep-c\\)")),
        included.out());
    assertTrue(!included.out().contains("skipped"), included.out());
  }

  @Test
  void unusableInputExitsTwoWithOneLine() throws Exception {
    Run one = dalang("compare", a.toString());
    assertEquals(2, one.code());
    Run twice = dalang("compare", a.toString(), a.toString());
    assertEquals(2, twice.code());
    assertEquals("dalang compare: " + a + ": sweep sweep-a is given twice\n", twice.err());
    Run missing = dalang("compare", a.toString(), dir.resolve("gone.json").toString());
    assertEquals(2, missing.code());
    assertEquals("dalang compare: " + dir.resolve("gone.json") + " does not exist\n", missing.err());
    Run negative = dalang("compare", a.toString(), b.toString(), "--tie-tolerance", "-0.1");
    assertEquals(2, negative.code());
    assertEquals("", negative.out());
  }
}
