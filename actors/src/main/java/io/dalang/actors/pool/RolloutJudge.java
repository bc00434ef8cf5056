package io.dalang.actors.pool;

import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.telemetry.TelemetryActor;
import java.util.Locale;
import java.util.Map;

/**
 * The decisions of a rollout that need more than the replica counts: a pure function of the pool, its
 * slots' states, the runs by version since the rollout began and the time, so every rule is tested
 * without a cluster ({@code RolloutJudgeTest}).
 */
final class RolloutJudge {
  private RolloutJudge() {}

  /** Go to phase {@code to} ({@link Rollout#DONE}: promote), because of {@code note}. */
  record Decision(String to, String note) {}

  static Decision decide(PoolEntity.PoolView pool, Map<String, ModelSlotEntity.SlotView> slots, Map<String, Integer> failedLooks,
      int failedTicks, TelemetryActor.VersionStats stats, long nowMs) {
    Rollout r = pool.rollout();
    Rollout.HealthGate gate = r.gate();
    int replicas = pool.spec().replicas();
    var next = pool.slots().stream().filter(PoolEntity.SlotPlacement::next).toList();
    var old = pool.slots().stream().filter(p -> !p.next()).toList();
    if (r.phase().equals(Rollout.ROLLING_BACK)) {
      return next.isEmpty() ? new Decision(Rollout.ROLLED_BACK, "every replica of " + r.target() + " is gone; " + r.note()) : null;
    }
    boolean split = r.phase().equals(Rollout.SPLIT);
    if (!r.phase().equals(Rollout.CANARY) && !r.phase().equals(Rollout.ROLLING) && !split) return null; // paused
    for (var p : next) {
      var v = slots.get(p.slotId());
      if (v == null) continue;
      if (v.attempt() > gate.maxRestarts() + 1) {
        return new Decision(Rollout.ROLLING_BACK, "crash loop: replica " + p.slotId() + " of " + r.target() + " is on its start #"
            + v.attempt() + " (the gate allows " + gate.maxRestarts() + " restarts)");
      }
      if (failedLooks.getOrDefault(p.slotId(), 0) >= failedTicks) {
        return new Decision(Rollout.ROLLING_BACK, "replica " + p.slotId() + " of " + r.target() + " failed: " + v.detail());
      }
    }
    // A split is promoted or aborted by an operator; only a failing new version ends it on its own.
    if (split) return null;
    long elapsedMs = nowMs - r.startedAt().toEpochMilli();
    boolean timedOut = elapsedMs > gate.timeoutSeconds() * 1000;
    long ready = next.stream().filter(p -> slots.get(p.slotId()) != null && "Ready".equals(slots.get(p.slotId()).state())).count();
    if (r.phase().equals(Rollout.CANARY)) {
      int canaries = r.canaryReplicas(replicas);
      if (ready < canaries) {
        return timedOut ? new Decision(Rollout.ROLLING_BACK, ready + " of " + canaries + " canary replica(s) of " + r.target()
            + " Ready after " + gate.timeoutSeconds() + " s") : null;
      }
      return gate(r, pool.spec().modelDigest(), stats, timedOut);
    }
    // rolling: promoted once the old replicas are gone and the new ones all Ready
    if (old.isEmpty() && next.size() >= replicas && ready == next.size()) {
      return new Decision(Rollout.DONE, "every replica runs " + r.target());
    }
    return null;
  }

  /** The health gate on the canary's runs, against the old version's in the same window; null while it waits for runs. */
  private static Decision gate(Rollout r, String oldDigest, TelemetryActor.VersionStats stats, boolean timedOut) {
    Rollout.HealthGate g = r.gate();
    var neu = stats.of(r.next().modelDigest());
    var old = stats.of(oldDigest);
    if (neu.runs() < g.minRuns() && !timedOut) return null;
    if (neu.runs() == 0) {
      return new Decision(Rollout.ROLLING, (g.minRuns() == 0 ? "the gate asks for no runs" : "no traffic reached " + r.target() + " in "
          + g.timeoutSeconds() + " s") + "; passed on readiness");
    }
    String seen = String.format(Locale.ROOT, "%d runs (%d valid), error rate %.3f, TTFT p95 %.1f ms, %.1f tokens/s", neu.runs(), neu.valid(),
        neu.errorRate(), neu.ttftP95Ms(), neu.tokensPerSecondP50());
    if (neu.errorRate() > g.maxErrorRate()) {
      return new Decision(Rollout.ROLLING_BACK, String.format(Locale.ROOT, "health gate failed: error rate %.3f > %.3f (%s)", neu.errorRate(),
          g.maxErrorRate(), seen));
    }
    if (neu.valid() > 0 && old.valid() > 0) {
      if (neu.ttftP95Ms() > g.maxTtftP95Ratio() * old.ttftP95Ms()) {
        return new Decision(Rollout.ROLLING_BACK, String.format(Locale.ROOT, "health gate failed: TTFT p95 %.1f ms > %.2f x %.1f ms of the old version (%s)",
            neu.ttftP95Ms(), g.maxTtftP95Ratio(), old.ttftP95Ms(), seen));
      }
      if (neu.tokensPerSecondP50() < g.minTokensPerSecondRatio() * old.tokensPerSecondP50()) {
        return new Decision(Rollout.ROLLING_BACK, String.format(Locale.ROOT, "health gate failed: %.1f tokens/s < %.2f x %.1f of the old version (%s)",
            neu.tokensPerSecondP50(), g.minTokensPerSecondRatio(), old.tokensPerSecondP50(), seen));
      }
    }
    return new Decision(Rollout.ROLLING, "health gate passed: " + seen);
  }
}
