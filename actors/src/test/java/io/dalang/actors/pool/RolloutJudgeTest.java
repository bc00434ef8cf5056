package io.dalang.actors.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.telemetry.TelemetryActor;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The steps a rollout takes on what its slots and runs show ({@link RolloutJudge}). */
class RolloutJudgeTest {
  static final Instant START = Instant.parse("2026-12-07T00:00:00Z");
  static final long SOON = START.toEpochMilli() + 10_000;
  static final long LATE = START.toEpochMilli() + 301_000;

  static PoolEntity.PoolView pool(String phase, PoolEntity.SlotPlacement... slots) {
    var r = new Rollout(RolloutPlanTest.V2, Rollout.ROLLING_STRATEGY, 1, 0, Rollout.HealthGate.DEFAULT, phase, null, START, START, "started");
    return new PoolEntity.PoolView(true, "p", RolloutPlanTest.V1, List.of(slots), slots.length, r);
  }

  static Map<String, ModelSlotEntity.SlotView> states(Object... idStateAttempt) {
    var m = new HashMap<String, ModelSlotEntity.SlotView>();
    for (int i = 0; i < idStateAttempt.length; i += 3) {
      String id = (String) idStateAttempt[i];
      m.put(id, new ModelSlotEntity.SlotView(id, (String) idStateAttempt[i + 1], null, null, 0, "boom", (Integer) idStateAttempt[i + 2]));
    }
    return m;
  }

  static TelemetryActor.VersionStats stats(TelemetryActor.Stats v1, TelemetryActor.Stats v2) {
    return new TelemetryActor.VersionStats(Map.of("d1", v1, "d2", v2));
  }

  static final TelemetryActor.Stats GOOD_OLD = new TelemetryActor.Stats(50, 0, 50, 100, 40);

  static RolloutJudge.Decision canary(TelemetryActor.Stats neu, long now) {
    var p = pool(Rollout.CANARY, RolloutPlanTest.old("p-0"), RolloutPlanTest.old("p-1"), RolloutPlanTest.neu("p-2"));
    return RolloutJudge.decide(p, states("p-0", "Ready", 0, "p-1", "Ready", 0, "p-2", "Ready", 0), Map.of(), 3, stats(GOOD_OLD, neu), now);
  }

  @Test
  void theGateWaitsForItsRunsThenPassesAHealthyCanary() {
    assertNull(canary(new TelemetryActor.Stats(3, 0, 3, 110, 39), SOON), "fewer runs than min_runs: wait");
    var pass = canary(new TelemetryActor.Stats(12, 0, 12, 110, 39), SOON);
    assertEquals(Rollout.ROLLING, pass.to());
    assertTrue(pass.note().startsWith("health gate passed: 12 runs"), pass.note());
    assertEquals(Rollout.ROLLING, canary(new TelemetryActor.Stats(0, 0, 0, 0, 0), LATE).to(), "no traffic at all: readiness alone");
  }

  @Test
  void theGateFailsOnErrorsSlowFirstTokensOrSlowTokens() {
    var errors = canary(new TelemetryActor.Stats(20, 2, 18, 100, 40), SOON);
    assertEquals(Rollout.ROLLING_BACK, errors.to());
    assertTrue(errors.note().contains("error rate 0.100 > 0.050"), errors.note());
    var slowStart = canary(new TelemetryActor.Stats(20, 0, 20, 151, 40), SOON);
    assertTrue(slowStart.note().contains("TTFT p95 151.0 ms > 1.50 x 100.0 ms"), slowStart.note());
    var slow = canary(new TelemetryActor.Stats(20, 0, 20, 100, 27), SOON);
    assertTrue(slow.note().contains("27.0 tokens/s < 0.70 x 40.0"), slow.note());
  }

  @Test
  void aCrashLoopingOrFailedNewReplicaRollsBack() {
    var p = pool(Rollout.CANARY, RolloutPlanTest.old("p-0"), RolloutPlanTest.neu("p-2"));
    var loop = RolloutJudge.decide(p, states("p-0", "Ready", 0, "p-2", "Loading", 4), Map.of(), 3, stats(GOOD_OLD, GOOD_OLD), SOON);
    assertEquals(Rollout.ROLLING_BACK, loop.to());
    assertTrue(loop.note().startsWith("crash loop: replica p-2"), loop.note());
    assertNull(RolloutJudge.decide(p, states("p-0", "Ready", 0, "p-2", "Failed", 0), Map.of("p-2", 2), 3, stats(GOOD_OLD, GOOD_OLD), SOON),
        "failed twice in a row is not yet a loop");
    assertEquals(Rollout.ROLLING_BACK,
        RolloutJudge.decide(p, states("p-0", "Ready", 0, "p-2", "Failed", 0), Map.of("p-2", 3), 3, stats(GOOD_OLD, GOOD_OLD), SOON).to());
    var notReady = RolloutJudge.decide(p, states("p-0", "Ready", 0, "p-2", "Loading", 1), Map.of(), 3, stats(GOOD_OLD, GOOD_OLD), LATE);
    assertEquals(Rollout.ROLLING_BACK, notReady.to(), "a canary not Ready within the gate's timeout");
  }

  @Test
  void promotesOnceEveryOldReplicaIsGoneAndEndsARollbackOnceTheNewOnesAre() {
    var rolling = pool(Rollout.ROLLING, RolloutPlanTest.neu("p-2"), RolloutPlanTest.neu("p-3"));
    assertEquals(Rollout.DONE, RolloutJudge.decide(rolling, states("p-2", "Ready", 0, "p-3", "Ready", 0), Map.of(), 3,
        stats(GOOD_OLD, GOOD_OLD), SOON).to());
    assertNull(RolloutJudge.decide(rolling, states("p-2", "Ready", 0, "p-3", "Loading", 1), Map.of(), 3, stats(GOOD_OLD, GOOD_OLD), SOON));
    var back = pool(Rollout.ROLLING_BACK, RolloutPlanTest.old("p-0"), RolloutPlanTest.old("p-4"));
    assertEquals(Rollout.ROLLED_BACK, RolloutJudge.decide(back, states(), Map.of(), 3, stats(GOOD_OLD, GOOD_OLD), SOON).to());
  }
}
