package io.dalang.actors.run;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.runs} keys.
 *
 * @param resubmitInterval how often a run waiting in its pool's queue submits itself again, so that a
 *     pool admission actor that moved (and lost its queue) learns of it; idempotent otherwise
 * @param redispatchWait how long a run whose engine went away before it started waits for a Ready slot
 *     of its pool (its engine restarting) before it fails with {@code no_ready_slot}
 */
public record RunSettings(Duration timeout, Duration stallTimeout, Duration resubmitInterval, int defaultMaxTokens,
    Duration redispatchWait) {

  public static RunSettings from(Config c) {
    Config r = c.getConfig("dalang.runs");
    return new RunSettings(r.getDuration("timeout"), r.getDuration("stall-timeout"), r.getDuration("resubmit-interval"),
        r.getInt("default-max-tokens"), r.getDuration("redispatch-wait"));
  }
}
