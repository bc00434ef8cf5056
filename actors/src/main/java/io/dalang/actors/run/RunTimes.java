package io.dalang.actors.run;

import io.dalang.protocols.generation.EngineTimings;

/**
 * A run's split of its time between the model and Dalang, as its record states it, on every path:
 * always finite, {@code 0 ≤ internal ≤ total} and {@code 0 ≤ overheadRatio ≤ 1}.
 *
 * @param internalSeconds the engine's own timings when they give model time; else what Dalang measured
 *     of the engine's work on the run ({@code measuredSeconds}: {@code Started} to its last event, 0 if
 *     the engine never started it)
 * @param internalFromEngine whether {@code internalSeconds} are the engine's own accounting
 * @param overheadRatio {@code (total − internal) / total}; 1 for a run the model spent no time on (it
 *     never reached the engine: all of its time was Dalang's, quota check, placement and queue)
 */
record RunTimes(double totalSeconds, double internalSeconds, boolean internalFromEngine, double overheadRatio) {

  static RunTimes of(double totalSeconds, EngineTimings timings, double measuredSeconds) {
    double total = finiteAtLeastZero(totalSeconds);
    double engine = finiteAtLeastZero(timings.internalModelSeconds());
    boolean fromEngine = engine > 0 && timings.reportedByEngine();
    double internal = Math.min(engine > 0 ? engine : finiteAtLeastZero(measuredSeconds), total);
    double ratio = total > 0 ? (total - internal) / total : 1;
    return new RunTimes(total, internal, fromEngine, ratio);
  }

  private static double finiteAtLeastZero(double v) {
    return Double.isFinite(v) && v > 0 ? v : 0;
  }
}
