package io.dalang.actors.breaker;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.breaker} keys: when a slot's circuit breaker opens and how long it stays open.
 *
 * @param failureThreshold consecutive engine-side failures of runs on one slot that open its breaker
 * @param openDuration how long an open breaker keeps runs away from the slot before one probe run is let through
 */
public record BreakerSettings(int failureThreshold, Duration openDuration) {
  public static final BreakerSettings DEFAULTS = new BreakerSettings(5, Duration.ofSeconds(30));

  public BreakerSettings {
    if (failureThreshold < 1) throw new IllegalArgumentException("dalang.breaker.failure-threshold must be at least 1");
    if (openDuration.isNegative()) throw new IllegalArgumentException("dalang.breaker.open-duration must not be negative");
  }

  public static BreakerSettings from(Config c) {
    Config b = c.getConfig("dalang.breaker");
    return new BreakerSettings(b.getInt("failure-threshold"), b.getDuration("open-duration"));
  }
}
