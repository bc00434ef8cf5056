package io.dalang.actors.pool;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;

/**
 * A pool moving to another catalog version without downtime: the replicas of the version it serves
 * ({@code old}) are replaced by replicas of {@link #next} ({@code new}) while both serve traffic.
 *
 * <pre>
 * canary ──gate passed──▶ rolling ──every old replica replaced──▶ done (the pool's spec is next)
 *   │                        │
 *   └──gate failed, crash loop, abort──▶ rolling-back ──new replicas gone──▶ rolled-back
 * canary, rolling ──pause──▶ paused ──resume──▶ the phase it left
 * split ──promote──▶ rolling      split ──abort, crash loop──▶ rolling-back
 * </pre>
 *
 * <ul>
 *   <li>{@code canary}: {@link #canaryReplicas} new replicas start beside every old one (one for
 *       {@code rolling}, all for {@code blue-green}); once they are loaded, the health gate compares their
 *       valid runs with the old version's since the rollout began.
 *   <li>{@code rolling}: new replicas are added (at most {@link #maxSurge} beyond the pool's count) and an
 *       old one is retired (drained: its runs finish) for each new one loaded, never leaving fewer than
 *       {@code replicas - maxUnavailable} loaded.
 *   <li>{@code rolling-back}: the new replicas are retired (drained), the old ones brought back to count.
 *   <li>{@code split} (strategy {@code split}): an A/B split. Both versions serve, {@link #splitPercent}
 *       of the runs go to the new one (pool admission routes by run), with {@code round(replicas ×
 *       percent)} (at least 1) new replicas beside every old one, until an operator promotes it (it then
 *       rolls on like a rollout) or aborts it.
 * </ul>
 *
 * @param strategy {@code rolling} or {@code blue-green}
 * @param resumeTo the phase a {@code paused} rollout goes back to; null otherwise
 * @param note why the last step was taken (the gate's verdict, a crash loop, who aborted)
 */
public record Rollout(PoolSpec next, String strategy, int maxSurge, int maxUnavailable, HealthGate gate, String phase, String resumeTo,
    Instant startedAt, Instant updatedAt, String note, int splitPercent)
    implements CborSerializable {

  public Rollout(PoolSpec next, String strategy, int maxSurge, int maxUnavailable, HealthGate gate, String phase, String resumeTo,
      Instant startedAt, Instant updatedAt, String note) {
    this(next, strategy, maxSurge, maxUnavailable, gate, phase, resumeTo, startedAt, updatedAt, note, 0);
  }

  public static final String ROLLING_STRATEGY = "rolling";
  public static final String BLUE_GREEN = "blue-green";
  /** An A/B split: both versions serve, {@link #splitPercent} of the runs go to the new one, until promoted or aborted. */
  public static final String SPLIT_STRATEGY = "split";

  public static final String CANARY = "canary";
  public static final String SPLIT = "split";
  public static final String ROLLING = "rolling";
  public static final String PAUSED = "paused";
  public static final String ROLLING_BACK = "rolling-back";
  public static final String DONE = "done";
  public static final String ROLLED_BACK = "rolled-back";

  /**
   * What the new version must show before the old one goes: at least {@code minRuns} valid runs on the new
   * replicas (or, after {@code timeoutSeconds}, whatever ran; none at all passes on readiness alone), an
   * error rate of at most {@code maxErrorRate}, a TTFT p95 of at most {@code maxTtftP95Ratio} times the old
   * version's, tokens/s of at least {@code minTokensPerSecondRatio} times the old version's (the ratios are
   * checked where the old version has valid runs in the same window), and no new replica restarted more
   * than {@code maxRestarts} times or failed.
   */
  public record HealthGate(int minRuns, long timeoutSeconds, double maxErrorRate, double maxTtftP95Ratio, double minTokensPerSecondRatio,
      int maxRestarts) implements CborSerializable {
    public static final HealthGate DEFAULT = new HealthGate(10, 300, 0.05, 1.5, 0.7, 2);
  }

  public boolean active() {
    return !phase.equals(DONE) && !phase.equals(ROLLED_BACK);
  }

  /** How many new replicas the canary (or split) phase starts for a pool of {@code replicas}. */
  public int canaryReplicas(int replicas) {
    if (strategy.equals(SPLIT_STRATEGY)) return Math.max(1, Math.min(Math.max(1, replicas), Math.round(replicas * splitPercent / 100f)));
    return strategy.equals(BLUE_GREEN) ? Math.max(1, replicas) : 1;
  }

  /** The surge for a pool of {@code replicas}: blue-green brings up a whole second set. */
  public int surge(int replicas) {
    return strategy.equals(BLUE_GREEN) ? Math.max(1, replicas) : Math.max(1, maxSurge);
  }

  Rollout step(String to, String newResumeTo, Instant at, String why) {
    return new Rollout(next, strategy, maxSurge, maxUnavailable, gate, to, newResumeTo, startedAt, at, why, splitPercent);
  }

  /** The catalog version the rollout moves to ({@code name@v2}). */
  public String target() {
    return next.catalogRef();
  }
}
