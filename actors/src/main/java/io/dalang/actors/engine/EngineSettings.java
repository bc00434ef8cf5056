package io.dalang.actors.engine;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;

/** {@code dalang.engine} and {@code dalang.node} keys the engine actors use. */
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
    int healthFailuresBeforeRestart) {

  public static EngineSettings from(Config c, Path dataDir) {
    Config e = c.getConfig("dalang.engine");
    Config r = e.getConfig("restart");
    Config n = c.getConfig("dalang.node");
    Config a = c.getConfig("dalang.admission");
    var weights = new java.util.HashMap<String, Integer>();
    a.getConfig("tenant-weights").root().keySet().forEach(t -> weights.put(t, a.getConfig("tenant-weights").getInt(t)));
    var admission = new io.dalang.actors.admission.AdmissionSettings(e.getInt("max-queued"),
        io.dalang.actors.admission.OverflowPolicy.valueOf(a.getString("policy").toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
        weights, a.getInt("default-weight"), a.getInt("quantum"));
    return new EngineSettings(dataDir, e.getDuration("start-timeout"), e.getInt("warmup-tokens"), e.getInt("max-queued"), admission,
        r.getDuration("min-backoff"), r.getDuration("max-backoff"), r.getDouble("jitter"), r.getInt("max-restarts"),
        r.getDuration("window"), n.getDuration("status-interval"), n.getDuration("health-interval"),
        n.getInt("health-failures-before-restart"));
  }
}
