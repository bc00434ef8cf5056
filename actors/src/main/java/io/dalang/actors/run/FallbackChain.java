package io.dalang.actors.run;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.protocols.error.ErrorCode;
import java.util.List;
import java.util.Optional;

/**
 * Where a run goes after a failure: the tenant's fallback targets after the run's own pool, in order,
 * and how many of them the run has used. Pure: moving on gives a new chain.
 *
 * <p>A run moves on only while nothing of it reached the client (its engine had not started it) and
 * only for a retriable error ({@link Fallbacks#eligible}); each target is tried once.
 */
record FallbackChain(List<FallbackTarget> targets, int used) {

  FallbackChain {
    targets = List.copyOf(targets);
  }

  /**
   * The tenant's {@code fallbacks} that may take a run of {@code model} ({@link FallbackTarget#takes}:
   * named for it, or serving it), without the run's own pool (it is where the run starts).
   */
  static FallbackChain of(String ownPool, String model, List<FallbackTarget> fallbacks) {
    return new FallbackChain(fallbacks == null ? List.of()
        : fallbacks.stream().filter(t -> !(t.isPool() && t.pool().equals(ownPool)) && t.takes(model)).toList(), 0);
  }

  /** The target to try after a failure with {@code code}; empty: the run ends with that failure. */
  Optional<FallbackTarget> next(ErrorCode code, boolean started) {
    if (used >= targets.size() || started || !Fallbacks.eligible(code)) return Optional.empty();
    return Optional.of(targets.get(used));
  }

  /** This chain with its next target used. */
  FallbackChain advance() {
    return new FallbackChain(targets, used + 1);
  }
}
