package io.dalang.runtime.bench.load;

import java.util.SplittableRandom;

/**
 * Open-loop arrivals of a Poisson process: the gaps between requests are exponential with mean
 * {@code 1 / rate}, drawn from a seeded PRNG so that two runs with the same seed send at the same
 * planned times. Requests go out at their planned times whether or not earlier ones have answered, so
 * a slow server meets the load it would meet from independent users ({@code vllm bench serve --request-rate}).
 */
public final class Arrivals {
  private final double meanGapNanos;
  private final SplittableRandom random;

  /** @param ratePerSecond requests per second, above 0 */
  public Arrivals(double ratePerSecond, long seed) {
    if (!(ratePerSecond > 0)) throw new IllegalArgumentException("rate must be above 0, got " + ratePerSecond);
    this.meanGapNanos = 1e9 / ratePerSecond;
    this.random = new SplittableRandom(seed);
  }

  /** The next gap, in nanoseconds. */
  public long nextGapNanos() {
    // 1 - u is in (0, 1], so the log is finite.
    return Math.round(-Math.log(1 - random.nextDouble()) * meanGapNanos);
  }
}
