package io.dalang.actors.placement;

import com.typesafe.config.Config;
import io.dalang.actors.TimeSource;
import java.time.Duration;

/**
 * {@code dalang.placement} keys, and how long a slot status is trusted ({@code dalang.node.status-ttl}).
 *
 * @param keepDecisions how many decisions are kept for narration, the oldest dropped first
 * @param time the clock statuses are aged and decisions timed by; {@link TimeSource#SYSTEM} but in tests
 */
public record PlacementSettings(PlacementPolicy policy, Duration cacheTtl, int cacheSize, int keepDecisions, Duration statusTtl,
    TimeSource time) {

  public static PlacementSettings from(Config c) {
    Config p = c.getConfig("dalang.placement");
    return new PlacementSettings(PlacementPolicy.parse(p.getString("policy")), p.getDuration("cache-ttl"),
        p.getInt("cache-size"), p.getInt("keep-decisions"), c.getDuration("dalang.node.status-ttl"), TimeSource.SYSTEM);
  }

  /** Defaults for tests: least-loaded, a 10 s cache of 1024 classes, 1000 decisions kept. */
  public static PlacementSettings defaults(Duration statusTtl) {
    return new PlacementSettings(PlacementPolicy.LEAST_LOADED, Duration.ofSeconds(10), 1024, 1000, statusTtl, TimeSource.SYSTEM);
  }

  public PlacementSettings withTime(TimeSource t) {
    return new PlacementSettings(policy, cacheTtl, cacheSize, keepDecisions, statusTtl, t);
  }
}
