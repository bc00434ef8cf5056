package io.dalang.runtime.compare;

import static io.dalang.runtime.sweep.Summaries.provenance;
import static io.dalang.runtime.sweep.Summaries.summary;
import static io.dalang.runtime.sweep.Summaries.variant;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.compare.ComparisonGraph.Cell;
import io.dalang.runtime.compare.ComparisonGraph.Difference;
import io.dalang.runtime.compare.ComparisonGraph.Edge;
import io.dalang.runtime.compare.ComparisonGraph.Tally;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ComparisonTest {
  static final Comparison.Options DEFAULTS = new Comparison.Options(0.02, 5, false);

  // F16: tps +1% (tie), adherence equal, ttft_p95 +10% (loss: lower is better), divergence equal.
  // Q4_K_M: tps +25% (win), adherence +5.6% (win), ttft_p95 -30% (win), divergence -10% (loss).
  static final SweepSummary A = summary("sweep-a", "Q4_K_M", provenance(),
      variant("F16", 10, 20, 1.0, 300, 32), variant("Q4_K_M", 10, 40, 0.90, 200, 20));
  static final SweepSummary B = summary("sweep-b", "Q4_K_M", provenance(),
      variant("F16", 10, 20.2, 1.0, 330, 32), variant("Q4_K_M", 10, 50, 0.95, 140, 18));

  @Test
  void countsWinsLossesAndTiesPerMetricFromTheLaterSweepsSide() {
    Edge e = Comparison.compare(List.of(A, B), DEFAULTS).edges().get(0);
    assertEquals("sweep-a", e.from());
    assertEquals("sweep-b", e.to());
    assertEquals(Map.of("tokens_per_second", new Tally(1, 0, 1), "adherence", new Tally(1, 0, 1),
        "ttft_ms_p95", new Tally(1, 1, 0), "mean_first_divergence", new Tally(0, 1, 1)), e.tallies());
    assertEquals(8, e.cells().size());
    assertTrue(e.provenanceDifferences().isEmpty());
  }

  @Test
  void theTieToleranceDecidesWhatCountsAsAChange() {
    Edge wide = Comparison.compare(List.of(A, B), new Comparison.Options(0.31, 5, false)).edges().get(0);
    assertEquals(new Tally(0, 0, 2), wide.tallies().get("tokens_per_second"));
    assertEquals(new Tally(0, 0, 2), wide.tallies().get("ttft_ms_p95"));
    Edge exact = Comparison.compare(List.of(A, B), new Comparison.Options(0, 5, false)).edges().get(0);
    assertEquals(new Tally(2, 0, 0), exact.tallies().get("tokens_per_second"));
    assertEquals(new Tally(0, 1, 1), exact.tallies().get("mean_first_divergence"), "equal figures stay a tie at tolerance 0");
  }

  @Test
  void topKListsTheLargestRelativeChangesFirstInVariantThenMetricOrderOnEqualSize() {
    var top = Comparison.compare(List.of(A, B), new Comparison.Options(0.02, 4, false)).top();
    assertEquals(1, top.size());
    List<Cell> d = top.get(0).deltas();
    assertEquals(List.of("Q4_K_M ttft_ms_p95", "Q4_K_M tokens_per_second", "F16 ttft_ms_p95", "Q4_K_M mean_first_divergence"),
        d.stream().map(c -> c.variant() + " " + c.metric()).toList());
    assertEquals(-30.0, d.get(0).deltaPct(), 1e-9);
    assertEquals(25.0, d.get(1).deltaPct(), 1e-9);
    assertEquals(Comparison.WIN, d.get(0).outcome());
    assertEquals(Comparison.LOSS, d.get(2).outcome());
  }

  @Test
  void everyOrderedPairIsAnEdgeAndTopKRunsFromTheFirstSweep() {
    SweepSummary c = summary("sweep-c", "Q4_K_M", provenance(), variant("F16", 10, 20, 1.0, 300, 32), variant("Q4_K_M", 10, 40, 0.90, 200, 0));
    ComparisonGraph g = Comparison.compare(List.of(A, B, c), DEFAULTS);
    assertEquals(List.of("sweep-a>sweep-b", "sweep-a>sweep-c", "sweep-b>sweep-c"), g.edges().stream().map(e -> e.from() + ">" + e.to()).toList());
    assertEquals(List.of("sweep-b", "sweep-c"), g.top().stream().map(ComparisonGraph.TopDeltas::to).toList());
    Cell toZero = g.top().get(1).deltas().get(0);
    assertEquals("mean_first_divergence", toZero.metric());
    assertEquals(-100.0, toZero.deltaPct(), 1e-9);
  }

  @Test
  void aMoveAwayFromZeroHasNoPercentageAndRanksAsTheLargestChange() {
    SweepSummary zero = summary("sweep-zero", "Q4_K_M", provenance(), variant("F16", 10, 20, 1.0, 300, 32),
        variant("Q4_K_M", 10, 40, 0.90, 200, 0));
    Cell first = Comparison.compare(List.of(zero, A), DEFAULTS).top().get(0).deltas().get(0);
    assertEquals("Q4_K_M mean_first_divergence", first.variant() + " " + first.metric());
    assertNull(first.deltaPct());
    assertEquals(Comparison.WIN, first.outcome());
  }

  @Test
  void variantsWithoutValidRunsAreSkippedUnlessIncludeInvalidThenMarked() {
    SweepSummary b = summary("sweep-b", "F16", provenance(), variant("F16", 10, 21, 1.0, 300, 32), variant("Q4_K_M", 0, 0, 0, 0, 0),
        variant("Q8_0", 10, 30, 0.98, 250, 30));
    Edge skipped = Comparison.compare(List.of(A, b), DEFAULTS).edges().get(0);
    assertEquals(Map.of("Q4_K_M", "no valid runs in sweep-b", "Q8_0", "not in sweep-a"), skipped.skipped());
    assertTrue(skipped.cells().stream().allMatch(x -> x.variant().equals("F16")));

    Edge included = Comparison.compare(List.of(A, b), new Comparison.Options(0.02, 5, true)).edges().get(0);
    assertEquals(Map.of("Q8_0", "not in sweep-a"), included.skipped());
    var q4 = included.cells().stream().filter(x -> x.variant().equals("Q4_K_M")).toList();
    assertEquals(4, q4.size());
    assertTrue(q4.stream().allMatch(x -> "no valid runs in sweep-b".equals(x.note())));
    assertTrue(included.cells().stream().filter(x -> x.variant().equals("F16")).allMatch(x -> x.note() == null));
  }

  @Test
  void provenanceThatMakesSweepsUnlikeIsListedFieldByField() {
    var other = provenance("sha256:other-prompts", "sha256:engine", 16);
    SweepSummary b = summary("sweep-b", "Q4_K_M", other, variant("F16", 10, 20, 1.0, 300, 32));
    Edge e = Comparison.compare(List.of(A, b), DEFAULTS).edges().get(0);
    assertEquals(List.of(new Difference("preset.prompts_digest", "sha256:prompts", "sha256:other-prompts"),
        new Difference("machine.cpus", "2", "16")), e.provenanceDifferences());
  }
}
