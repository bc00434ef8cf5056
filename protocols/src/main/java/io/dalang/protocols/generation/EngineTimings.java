package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;

/**
 * The time the model itself spent on a run. {@code reportedByEngine} is true when the numbers come
 * from the engine's own accounting (llama-server's {@code timings}); false when Dalang measured them
 * around the native calls (the in-process engine reports none).
 */
public record EngineTimings(double promptMs, double predictedMs, boolean reportedByEngine)
    implements CborSerializable {

  public static final EngineTimings NONE = new EngineTimings(0, 0, false);

  public double internalModelSeconds() {
    return (promptMs + predictedMs) / 1000.0;
  }
}
