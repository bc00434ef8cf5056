package io.dalang.runtime.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.runtime.sweep.SweepAnalysis.Measured;
import io.dalang.runtime.sweep.SweepAnalysis.Observation;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SweepAnalysisTest {
  static final List<String> PROMPTS = List.of("a", "b");
  static final List<String> REF_A = List.of("x", "y", "z", "w");
  static final List<String> REF_B = List.of("p", "q");

  static Observation ok(String prompt, List<String> pieces, double tps) {
    return new Observation(prompt, 0, pieces, tps, 10, List.of());
  }

  static Observation bad(String prompt, List<String> pieces, double tps, String reason) {
    return new Observation(prompt, 0, pieces, tps, 10, List.of(reason));
  }

  static Measured variant(String name, boolean ref, long bytes, Observation... runs) {
    return new Measured(name, "/m/" + name, "d-" + name, bytes, Map.of(), ref, List.of(runs));
  }

  static Measured reference() {
    return variant("F32", true, 1000, ok("a", REF_A, 100), ok("b", REF_B, 100));
  }

  @Test
  void firstDivergenceIsTheFirstDifferingPositionOrMinusOneForEqualStreams() {
    assertEquals(-1, SweepAnalysis.firstDivergence(REF_A, REF_A));
    assertEquals(2, SweepAnalysis.firstDivergence(REF_A, List.of("x", "y", "Q", "w")));
    assertEquals(0, SweepAnalysis.firstDivergence(REF_A, List.of("Q")));
    assertEquals(2, SweepAnalysis.firstDivergence(REF_A, List.of("x", "y")), "a shorter stream diverges where it ends");
  }

  @Test
  void agreementCountsMatchingPositionsOverTheLongerStream() {
    assertEquals(1.0, SweepAnalysis.agreement(REF_A, REF_A));
    assertEquals(0.75, SweepAnalysis.agreement(REF_A, List.of("x", "Q", "z", "w")));
    assertEquals(0.5, SweepAnalysis.agreement(REF_A, List.of("x", "y")));
    assertEquals(0.5, SweepAnalysis.agreement(REF_B, List.of("p", "q", "r", "s")), "extra tokens disagree too");
    assertEquals(1.0, SweepAnalysis.agreement(List.of(), List.of()));
    assertEquals(0.0, SweepAnalysis.agreement(List.of(), List.of("x")));
  }

  @Test
  void variantFiguresComeFromValidRunsOnlyAndInvalidOnesAreCountedByReason() {
    var q = variant("Q8_0", false, 500, bad("a", REF_A, 9999, "warmup"), ok("a", List.of("x", "y", "Q", "Q"), 200),
        bad("b", REF_B, 5000, "failed:engine_failed"), ok("b", REF_B, 300));
    var r = SweepAnalysis.analyse(List.of(reference(), q), PROMPTS, 0.5, false);
    var v = r.variants().get(1);
    assertEquals(4, v.runsTotal());
    assertEquals(2, v.runsValid());
    assertEquals(Map.of("warmup", 1, "failed:engine_failed", 1), v.invalidReasons());
    assertEquals(250, v.tokensPerSecond(), 1e-9, "the invalid runs' 9999 and 5000 tokens/s never count");
    assertEquals((0.5 + 1.0) / 2, v.adherence(), 1e-9);
    assertEquals((2 + 2) / 2.0, v.meanFirstDivergence(), 1e-9, "an exact match counts its whole length");
    assertEquals(1, v.exactMatches());
    assertEquals(2, v.prompts().get(0).firstDivergence());
    assertEquals(-1, v.prompts().get(1).firstDivergence());
  }

  @Test
  void recommendsTheFastestVariantOverTheFloorAndSaysWhyNotForTheOthers() {
    var fast = variant("Q4_K_M", false, 300, ok("a", List.of("x", "Q", "Q", "Q"), 900), ok("b", List.of("Q", "Q"), 900));
    var mid = variant("Q8_0", false, 500, ok("a", REF_A, 400), ok("b", REF_B, 400));
    var r = SweepAnalysis.analyse(List.of(reference(), mid, fast), PROMPTS, 0.9, false);
    assertEquals("Q8_0", r.recommendation().variant());
    assertTrue(r.recommendation().excluded().get("Q4_K_M").contains("under the floor"), r.recommendation().excluded().toString());
    assertTrue(r.recommendation().excluded().get("F32").contains("slower"), r.recommendation().excluded().toString());
    assertEquals(List.of("Q4_K_M", "Q8_0"), r.frontier(), "F32 is dominated by Q8_0 (same adherence, faster)");
  }

  @Test
  void aVariantWithoutValidRunsIsNeverRecommendedEvenIfItsInvalidRunsLookBest() {
    var polluted = variant("Q8_0", false, 500, bad("a", REF_A, 5000, "engine_restarted"), bad("b", REF_B, 5000, "engine_restarted"));
    for (boolean includeInvalid : new boolean[] {false, true}) {
      var r = SweepAnalysis.analyse(List.of(reference(), polluted), PROMPTS, 0.9, includeInvalid);
      assertEquals("F32", r.recommendation().variant());
      assertTrue(r.recommendation().excluded().get("Q8_0").startsWith("no valid runs"));
      assertEquals(0, r.variants().get(1).tokensPerSecond(), "variant figures never include invalid runs");
    }
  }

  @Test
  void includeInvalidChangesOnlyTheFrontierView() {
    var polluted = variant("Q8_0", false, 500, bad("a", REF_A, 5000, "truncated_stream"), bad("b", REF_B, 5000, "truncated_stream"));
    var without = SweepAnalysis.analyse(List.of(reference(), polluted), PROMPTS, 0.9, false);
    var with = SweepAnalysis.analyse(List.of(reference(), polluted), PROMPTS, 0.9, true);
    assertEquals(List.of("F32"), without.frontier());
    assertEquals(List.of("Q8_0"), with.frontier(), "its invalid runs (5000 tokens/s, same tokens) dominate in the frontier view");
    assertEquals(without.variants(), with.variants());
    assertEquals(without.recommendation(), with.recommendation());
  }

  @Test
  void noRecommendationWhenNothingReachesTheFloor() {
    var worse = variant("Q2_K", false, 100, ok("a", List.of("Q"), 999), ok("b", List.of("Q"), 999));
    var refOnlyInvalid = variant("F32", true, 1000, bad("a", REF_A, 1, "warmup"), bad("b", REF_B, 1, "warmup"));
    var r = SweepAnalysis.analyse(List.of(refOnlyInvalid, worse), PROMPTS, 0.5, false);
    assertNull(r.recommendation().variant());
    assertFalse(r.variants().get(1).prompts().get(0).valid(), "without a valid reference run there is nothing to compare");
  }

  @Test
  void frontierKeepsExactlyTheNonDominatedPointsFastestFirst() {
    var points = new LinkedHashMap<String, double[]>();
    points.put("slow-exact", new double[] {100, 1.0});
    points.put("fast-rough", new double[] {900, 0.2});
    points.put("middle", new double[] {500, 0.8});
    points.put("dominated", new double[] {400, 0.7});
    points.put("tie-with-middle", new double[] {500, 0.8});
    var f = new ArrayList<>(SweepAnalysis.frontier(points));
    assertEquals(List.of("fast-rough", "middle", "tie-with-middle", "slow-exact"), f);
  }

  @Test
  void repeatsThatDisagreeAreFlaggedNondeterministic() {
    var flaky = variant("Q8_0", false, 500, ok("a", REF_A, 100), ok("a", List.of("x", "y", "z", "Q"), 100), ok("b", REF_B, 100));
    var r = SweepAnalysis.analyse(List.of(reference(), flaky), PROMPTS, 0.5, false);
    assertEquals(List.of("nondeterministic"), r.variants().get(1).prompts().get(0).qualityReasons());
    assertEquals(List.of(), r.variants().get(1).prompts().get(1).qualityReasons());
  }
}
