package io.dalang.runtime.baseline;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code dalang.baselines.*}: where sweep baselines are kept and how long.
 *
 * @param dir {@code <dalang.data-dir>/baselines}
 * @param retention the default of {@code dalang baseline prune}
 */
public record BaselineSettings(Path dir, Retention retention) {
  public static BaselineSettings from(Config c) {
    return new BaselineSettings(Path.of(c.getString("dalang.data-dir")).resolve("baselines"),
        new Retention(c.getDuration("dalang.baselines.max-age"), c.getInt("dalang.baselines.max-count")));
  }
}
