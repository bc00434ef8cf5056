package io.dalang.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.runtime.bench.OverheadBench.Phase;
import io.dalang.runtime.bench.OverheadBench.Result;
import io.dalang.runtime.bench.OverheadBench.Sample;
import io.dalang.runtime.bench.OverheadBench.Side;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The report of {@code dalang bench overhead}: its ratios, per-round figures and the target check. */
class OverheadBenchResultTest {
  /** A phase of {@code n} requests of 64 tokens, each with the given TTFT, taking {@code seconds}. */
  static Phase phase(int n, double ttftMs, double seconds) {
    var samples = new ArrayList<Sample>();
    for (int i = 0; i < n; i++) samples.add(new Sample(ttftMs + i % 3, ttftMs + 500, 64, false));
    return new Phase(samples, 0, (long) (seconds * 1e9), 0, -1);
  }

  @Test
  void ratiosComeFromTokensOverWallTimeOfEachSideAndEachRound() {
    // Round 1: Dalang 10% slower; round 2: as fast; round 3: 20% faster (a machine that drifted).
    var direct = new Side(List.of(phase(100, 50, 10), phase(100, 50, 10), phase(100, 50, 12)));
    var dalang = new Side(List.of(phase(100, 50, 11), phase(100, 50, 10), phase(100, 50, 10)));
    var r = new Result(64, 300, 64, "llama-server test", direct, dalang);
    assertEquals(32.0 / 31.0, r.throughputRatio(), 1e-9);
    assertEquals(List.of(0.909, 1.0, 1.2), r.roundRatios());
    assertEquals(1.0, r.medianRoundRatio(), 1e-9);
    assertEquals(0.0, (double) r.toMap().get("added_ttft_p50_ms"), 1e-9);
    assertTrue(r.meetsTarget());
    assertEquals(true, r.toMap().get("meets_target"));
    assertTrue(r.table().contains("(median 1.000)"), r.table());
    assertTrue(r.table().contains(": met"), r.table());
  }

  @Test
  void theTargetFailsOnThroughputOrOnAddedTimeToFirstToken() {
    var direct = new Side(List.of(phase(100, 50, 10), phase(100, 50, 10)));
    var slower = new Side(List.of(phase(100, 50, 10.3), phase(100, 50, 10.3)));
    assertFalse(new Result(64, 200, 64, "e", direct, slower).meetsTarget(), "0.971 of direct is below 0.98");
    var later = new Side(List.of(phase(100, 52, 10), phase(100, 52, 10)));
    var r = new Result(64, 200, 64, "e", direct, later);
    assertEquals(1.0, r.throughputRatio(), 1e-9);
    assertFalse(r.meetsTarget(), "+2 ms at p50 is above 1 ms");
    assertTrue(r.table().contains(": not met"), r.table());
    assertEquals(1.0, r.medianRoundRatio(), 1e-9, "an even number of rounds takes the mean of the middle two");
  }
}
