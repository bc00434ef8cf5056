package io.dalang.actors.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.generation.EngineTimings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A run's model time and overhead ratio are sane on every path, whatever the engine reported. */
class RunTimesTest {

  static void assertSane(RunTimes t) {
    assertTrue(Double.isFinite(t.internalSeconds()) && Double.isFinite(t.overheadRatio()) && Double.isFinite(t.totalSeconds()), t.toString());
    assertTrue(t.internalSeconds() >= 0 && t.internalSeconds() <= t.totalSeconds(), t.toString());
    assertTrue(t.overheadRatio() >= 0 && t.overheadRatio() <= 1, t.toString());
  }

  @Test
  void theEnginesOwnTimingsGiveTheModelTime() {
    var t = RunTimes.of(2.0, new EngineTimings(500, 1000, true), 1.9);
    assertEquals(1.5, t.internalSeconds(), 1e-12);
    assertTrue(t.internalFromEngine());
    assertEquals(0.25, t.overheadRatio(), 1e-12);
  }

  @Test
  void withoutEngineTimingsTheMeasuredEngineWorkCountsAndIsNotTheEngines() {
    var t = RunTimes.of(2.0, EngineTimings.NONE, 0.5);
    assertEquals(0.5, t.internalSeconds(), 1e-12);
    assertFalse(t.internalFromEngine());
    assertEquals(0.75, t.overheadRatio(), 1e-12);
  }

  @Test
  void aRunTheEngineNeverStartedIsAllOverhead() {
    var t = RunTimes.of(0.004, EngineTimings.NONE, 0);
    assertEquals(0, t.internalSeconds());
    assertEquals(1, t.overheadRatio());
  }

  @Test
  void nothingOddEverLeavesTheBounds() {
    for (double total : List.of(0.0, -1.0, Double.NaN, 1e-9, 3.0)) {
      for (EngineTimings tm : List.of(EngineTimings.NONE, new EngineTimings(Double.NaN, 5, true), new EngineTimings(-5, -5, false),
          new EngineTimings(1e9, 1e9, true), new EngineTimings(Double.POSITIVE_INFINITY, 0, true))) {
        for (double measured : List.of(0.0, -2.0, Double.NaN, 10.0)) assertSane(RunTimes.of(total, tm, measured));
      }
    }
  }
}
