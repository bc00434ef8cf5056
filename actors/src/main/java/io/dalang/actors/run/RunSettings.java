package io.dalang.actors.run;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code dalang.runs} keys. */
public record RunSettings(Duration timeout, Duration stallTimeout, Duration placementTimeout, int defaultMaxTokens) {

  public static RunSettings from(Config c) {
    Config r = c.getConfig("dalang.runs");
    return new RunSettings(r.getDuration("timeout"), r.getDuration("stall-timeout"),
        c.getDuration("dalang.http.ask-timeout"), r.getInt("default-max-tokens"));
  }
}
