package io.dalang.engine;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How to run one engine for one model slot.
 *
 * @param contextPerSequence tokens of context each parallel sequence gets
 * @param workDir where the engine may write logs
 * @param nativeLog whether llama.cpp's own (verbose) log is passed on; llama-server always writes it
 *     to {@code workDir/llama-server.log}
 * @param extraArgs more command-line arguments for an out-of-process engine (e.g. {@code --poll 0})
 */
public record EngineConfig(
    Path model,
    int contextPerSequence,
    int parallel,
    int threads,
    Duration startTimeout,
    Path workDir,
    boolean nativeLog,
    java.util.List<String> extraArgs) {

  public EngineConfig(Path model, int contextPerSequence, int parallel, int threads, Duration startTimeout, Path workDir) {
    this(model, contextPerSequence, parallel, threads, startTimeout, workDir, false, java.util.List.of());
  }

  public int totalContext() {
    return contextPerSequence * parallel;
  }
}
