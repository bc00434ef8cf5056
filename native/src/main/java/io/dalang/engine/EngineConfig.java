package io.dalang.engine;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How to run one engine for one model slot.
 *
 * @param contextPerSequence tokens of context each parallel sequence gets
 * @param workDir where the engine may write logs
 */
public record EngineConfig(
    Path model,
    int contextPerSequence,
    int parallel,
    int threads,
    Duration startTimeout,
    Path workDir) {

  public int totalContext() {
    return contextPerSequence * parallel;
  }
}
