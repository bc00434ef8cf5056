package io.dalang.actors.engine;

import com.typesafe.config.Config;
import io.dalang.actors.TimeSource;
import java.nio.file.Path;
import java.time.Duration;

/**
 * {@code dalang.engine} and {@code dalang.node} keys the engine actors use.
 *
 * @param time the clock queue times, deadlines and statuses are read on; {@link TimeSource#SYSTEM} but in tests
 * @param models where a slot's model file is on this node ({@link ModelFiles#AS_GIVEN} unless the node has a model cache)
 */
public record EngineSettings(
    Path dataDir,
    Duration startTimeout,
    int warmupTokens,
    int maxQueued,
    io.dalang.actors.admission.AdmissionSettings admission,
    Duration minBackoff,
    Duration maxBackoff,
    double jitter,
    int maxRestarts,
    Duration restartWindow,
    Duration statusInterval,
    Duration healthInterval,
    int healthFailuresBeforeRestart,
    Duration syncInterval,
    Duration drainTimeout,
    TimeSource time,
    ModelFiles models) {

  public static EngineSettings from(Config c, Path dataDir) {
    Config e = c.getConfig("dalang.engine");
    Config r = e.getConfig("restart");
    Config n = c.getConfig("dalang.node");
    Config a = c.getConfig("dalang.admission");
    var admission = io.dalang.actors.admission.AdmissionSettings.from(a, e.getInt("max-queued"));
    return new EngineSettings(dataDir, e.getDuration("start-timeout"), e.getInt("warmup-tokens"), e.getInt("max-queued"), admission,
        r.getDuration("min-backoff"), r.getDuration("max-backoff"), r.getDouble("jitter"), r.getInt("max-restarts"),
        r.getDuration("window"), n.getDuration("status-interval"), n.getDuration("health-interval"),
        n.getInt("health-failures-before-restart"), n.getDuration("sync-interval"),
        n.getDuration("drain-timeout"), TimeSource.SYSTEM, ModelFiles.AS_GIVEN);
  }

  /** These settings with the node's model files ({@code dalang.node.model-cache}). */
  public EngineSettings withModels(ModelFiles files) {
    return new EngineSettings(dataDir, startTimeout, warmupTokens, maxQueued, admission, minBackoff, maxBackoff, jitter, maxRestarts,
        restartWindow, statusInterval, healthInterval, healthFailuresBeforeRestart, syncInterval, drainTimeout, time, files);
  }
}
