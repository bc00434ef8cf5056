package io.dalang.runtime.kpi;

import static io.dalang.runtime.sweep.Summaries.provenance;
import static io.dalang.runtime.sweep.Summaries.summary;
import static io.dalang.runtime.sweep.Summaries.variant;
import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.protocols.sweep.SweepSummary.Variant;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.sweep.Summaries;
import io.dalang.runtime.testing.DalangCli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dalang kpi check} run in-process against summaries and policies written to a temp dir. */
class KpiCommandTest {
  /** The shipped policy; Surefire runs in the runtime module's folder. */
  static final Path SHIPPED = Path.of("..", "..", "config", "kpi", "default.conf");

  @TempDir Path dir;

  static final Variant F16 = variant("F16", 10, 20, 1.0, 300, 32);
  static final Variant Q8 = variant("Q8_0", 10, 30, 0.98, 250, 30);
  static final Variant Q4 = variant("Q4_K_M", 10, 45, 0.93, 200, 20);

  private Run check(SweepSummary s, Path policy, String... more) throws Exception {
    Path file = Summaries.write(s, dir.resolve(s.sweepId() + ".json"));
    var args = new ArrayList<>(List.of("kpi", "check", "--policy", policy.toString(), "--summary", file.toString()));
    args.addAll(List.of(more));
    return dalang(args.toArray(String[]::new));
  }

  private Path policy(String hocon) throws Exception {
    return Files.writeString(dir.resolve("policy.conf"), hocon);
  }

  @Test
  void aHealthySweepMeetsTheShippedPolicyAndExitsZero() throws Exception {
    Run r = check(summary("sweep-ok", "Q4_K_M", provenance(), F16, Q8, Q4), SHIPPED);
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("PASS require_recommendation: Q4_K_M recommended\n"), r.out());
    assertTrue(r.out().contains("PASS valid-runs: valid_run_ratio (min 0.9) on all: F16 1, Q8_0 1, Q4_K_M 1\n"), r.out());
    assertTrue(r.out().contains("PASS recommended-adherence: adherence (min 0.9) on recommended: Q4_K_M 0.93\n"), r.out());
    assertTrue(r.out().endsWith("all 5 SLOs met\n"), r.out());
    assertFalse(r.out().contains("FAIL"), r.out());
  }

  @Test
  void aRecommendationUnderTheAdherenceFloorFailsItsSloByNameAndExitsOne() throws Exception {
    Run r = check(summary("sweep-drift", "Q4_K_M", provenance(), F16, Q8, variant("Q4_K_M", 10, 45, 0.85, 200, 20)), SHIPPED);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAIL recommended-adherence: adherence (min 0.9) on recommended: violated by Q4_K_M 0.85\n"), r.out());
    assertTrue(r.out().endsWith("1 of 5 SLOs violated: recommended-adherence\n"), r.out());
  }

  @Test
  void aVariantWithTooFewValidRunsFailsTheValidRunRatioForAll() throws Exception {
    Run r = check(summary("sweep-flaky", "Q4_K_M", provenance(), F16, variant("Q8_0", 5, 30, 0.98, 250, 30), Q4), SHIPPED);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAIL valid-runs: valid_run_ratio (min 0.9) on all: violated by Q8_0 0.5\n"), r.out());
  }

  @Test
  void warmUpRunsDoNotCountAgainstTheValidRunRatioButOtherInvalidRunsDo() throws Exception {
    var warmedUp = withRuns(variant("Q8_0", 12, 30, 0.98, 250, 30), 14, java.util.Map.of("warmup", 2));
    Run ok = check(summary("sweep-warm", "Q4_K_M", provenance(), F16, warmedUp, Q4), SHIPPED);
    assertTrue(ok.out().contains("PASS valid-runs"), ok.out());
    var failing = withRuns(variant("Q8_0", 11, 30, 0.98, 250, 30), 14, java.util.Map.of("warmup", 1, "failed: engine_failed", 2));
    Run bad = check(summary("sweep-failing", "Q4_K_M", provenance(), F16, failing, Q4), SHIPPED);
    assertTrue(bad.out().contains("FAIL valid-runs: valid_run_ratio (min 0.9) on all: violated by Q8_0 0.846"), bad.out());
  }

  private static io.dalang.protocols.sweep.SweepSummary.Variant withRuns(io.dalang.protocols.sweep.SweepSummary.Variant v, int total,
      java.util.Map<String, Integer> reasons) {
    return new io.dalang.protocols.sweep.SweepSummary.Variant(v.name(), v.modelPath(), v.modelDigest(), v.fileBytes(), v.tensorTypes(),
        v.isReference(), total, v.runsValid(), reasons, v.tokensPerSecond(), v.tokensPerSecondP50(), v.ttftMsP50(), v.ttftMsP95(),
        v.adherence(), v.meanFirstDivergence(), v.exactMatches(), v.prompts());
  }

  @Test
  void aFigureAboveItsMaximumFails() throws Exception {
    Run r = check(summary("sweep-slow", "Q4_K_M", provenance(), F16, Q8, variant("Q4_K_M", 10, 45, 0.93, 2500.5, 20)), SHIPPED);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAIL recommended-ttft-p95: ttft_ms_p95 (max 2000) on recommended: violated by Q4_K_M 2500.5\n"), r.out());
  }

  @Test
  void noRecommendationFailsTheRequirementAndEverySloOnTheRecommendedVariant() throws Exception {
    Run r = check(summary("sweep-none", null, provenance(), F16, Q8, Q4), SHIPPED);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAIL require_recommendation: no variant recommended: no variant reached adherence 0.9\n"), r.out());
    assertTrue(r.out().contains("FAIL recommended-adherence: adherence (min 0.9) on recommended: no variant recommended, nothing to check\n"),
        r.out());
    assertTrue(r.out().endsWith("4 of 5 SLOs violated: require_recommendation, recommended-adherence, recommended-throughput, "
        + "recommended-ttft-p95\n"), r.out());
  }

  @Test
  void aVariantWithoutValidRunsFailsClosedWhereItsPlaceholderFigureWouldPass() throws Exception {
    // The sweep writes 0 for a variant it could not measure: under a max, 0 would pass.
    Path p = policy("slos = [ { name = q2-ttft, metric = ttft_ms_p95, applies_to = Q2_K, max = 1000 } ]");
    Run r = check(summary("sweep-q2", "Q4_K_M", provenance(), F16, Q4, variant("Q2_K", 0, 0, 0, 0, 0)), p);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAIL q2-ttft: ttft_ms_p95 (max 1000) on Q2_K: violated by Q2_K has no valid runs\n"), r.out());
  }

  @Test
  void anSloOnAVariantTheSweepDidNotMeasureFails() throws Exception {
    Path p = policy("slos = [ { name = q5, metric = adherence, applies_to = Q5_K_M, min = 0.5 } ]");
    Run r = check(summary("sweep-no-q5", "Q4_K_M", provenance(), F16, Q4), p);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("FAIL q5: adherence (min 0.5) on Q5_K_M: variant Q5_K_M is not in this sweep\n"), r.out());
  }

  @Test
  void aSweepRunWithIncludeInvalidIsCheckedOnItsValidRunFiguresAndSaysSo() throws Exception {
    SweepSummary s = summary("sweep-wide", "Q4_K_M", provenance(), F16, Q8, Q4);
    s = new SweepSummary(s.schemaVersion(), s.sweepId(), s.createdAt(), s.provenance(), s.reference(), s.variants(), s.recommendation(),
        s.frontier(), true);
    Run r = check(s, SHIPPED);
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("note: this sweep's frontier view included invalid runs (--include-invalid); "
        + "the KPI figures below are from valid runs only\n"), r.out());
  }

  @Test
  void jsonOutputCarriesEachSloAndEachViolation() throws Exception {
    Run r = check(summary("sweep-json", "Q4_K_M", provenance(), F16, Q8, variant("Q4_K_M", 10, 45, 0.85, 200, 20)), SHIPPED, "--json");
    assertEquals(1, r.code(), r.out());
    JsonNode j = Json.MAPPER.readTree(r.out());
    assertEquals("sweep-json", j.get("sweep_id").asText());
    assertFalse(j.get("passed").asBoolean());
    assertEquals(5, j.get("slos").size());
    JsonNode v = j.get("violations").get(0);
    assertEquals(1, j.get("violations").size());
    assertEquals("recommended-adherence", v.get("slo").asText());
    assertEquals("Q4_K_M", v.get("variant").asText());
    assertEquals("adherence", v.get("metric").asText());
    assertEquals(0.85, v.get("actual").asDouble());
    assertEquals("min 0.9", v.get("bound").asText());
  }

  @Test
  void aMisspeltKeyInThePolicyIsAnErrorNamingItAndExitsTwo() throws Exception {
    Path p = policy("slos = [ { name = a, metric = adherence, applies_to = all, mni = 0.9 } ]");
    Run r = check(summary("sweep-x", "Q4_K_M", provenance(), F16, Q4), p);
    assertEquals(2, r.code(), r.out());
    assertEquals("", r.out());
    assertTrue(r.err().startsWith("dalang kpi check: bad policy " + p + ": unknown key slos[0].mni; known keys: applies_to, max, metric, min, name"),
        r.err());
    assertEquals(1, r.err().lines().count(), r.err());
  }

  @Test
  void unusablePoliciesExitTwoWithOneLineNamingTheProblem() throws Exception {
    SweepSummary s = summary("sweep-x", "Q4_K_M", provenance(), F16, Q4);
    String[][] cases = {
        {"slos = [ { name = a, metric = tokens, applies_to = all, min = 1 } ]", "slos[0].metric: 'tokens' is not a metric; one of tokens_per_second,"},
        {"slos = [ { name = a, metric = adherence, applies_to = all } ]", "slos[0] (a): give min, max or both"},
        {"slos = [ { name = a, metric = adherence, applies_to = all, min = high } ]", "slos[0].min: 'high' is not a number"},
        {"slos = [ { name = a, metric = adherence, min = 1 } ]", "slos[0].applies_to is missing"},
        {"require_recomendation = true\nslos = []", "unknown key require_recomendation"},
        {"require_recommendation = true", "slos is missing"},
        {"slos = [ { name = a, metric = adherence, applies_to = all, min = 1 }, { name = a, metric = adherence, applies_to = all, min = 1 } ]",
            "slos[1].name: 'a' is used twice"},
        {"slos = [ {", "bad policy "},
        {"require_recommendation = maybe\nslos = []", "require_recommendation has type STRING rather than BOOLEAN"},
        {"slos = [ { name = [1], metric = adherence, applies_to = all, min = 1 } ]", "slos[0].name: expected a string, not list"},
    };
    for (String[] c : cases) {
      Run r = check(s, policy(c[0]));
      assertEquals(2, r.code(), c[0] + " -> " + r.out());
      assertTrue(r.err().startsWith("dalang kpi check: bad policy ") && r.err().contains(c[1]), c[0] + " -> " + r.err());
      assertEquals(1, r.err().lines().count(), r.err());
    }
  }

  @Test
  void aMissingOrBrokenSummaryOrPolicyExitsTwo() throws Exception {
    Run noPolicy = check(summary("sweep-x", "Q4_K_M", provenance(), F16, Q4), dir.resolve("nope.conf"));
    assertEquals(2, noPolicy.code());
    assertEquals("dalang kpi check: policy " + dir.resolve("nope.conf") + " does not exist\n", noPolicy.err());

    Run noSummary = dalang("kpi", "check", "--policy", SHIPPED.toString(), "--summary", dir.resolve("none.json").toString());
    assertEquals(2, noSummary.code());
    assertEquals("dalang kpi check: " + dir.resolve("none.json") + " does not exist\n", noSummary.err());

    Path broken = Files.writeString(dir.resolve("broken.json"), "{\"schema_version\": 1, \"sweep_id\": ");
    Run notJson = dalang("kpi", "check", "--policy", SHIPPED.toString(), "--summary", broken.toString());
    assertEquals(2, notJson.code());
    assertTrue(notJson.err().startsWith("dalang kpi check: " + broken + " is not valid JSON (line 1"), notJson.err());

    Path other = Files.writeString(dir.resolve("other.json"), "{\"name\": \"not a sweep\"}");
    Run notASweep = dalang("kpi", "check", "--policy", SHIPPED.toString(), "--summary", other.toString());
    assertEquals(2, notASweep.code());
    assertEquals("dalang kpi check: " + other + " is not a sweep summary: 'schema_version' is missing or null\n", notASweep.err());
  }
}
