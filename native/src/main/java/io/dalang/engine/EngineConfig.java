package io.dalang.engine;

import io.dalang.protocols.generation.RunTask;
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
 * @param gpu the device the model goes on, and how many of its layers; {@link GpuBinding#CPU} for none
 * @param task what the engine is started for: generation, or (pooled output, no sampling) embeddings or
 *     reranking; it then serves only that ({@link Engine#extensions()} tells which)
 */
public record EngineConfig(
    Path model,
    int contextPerSequence,
    int parallel,
    int threads,
    Duration startTimeout,
    Path workDir,
    boolean nativeLog,
    java.util.List<String> extraArgs,
    GpuBinding gpu,
    RunTask task) {

  public EngineConfig {
    gpu = gpu == null ? GpuBinding.CPU : gpu;
    task = task == null ? RunTask.GENERATE : task;
  }

  public EngineConfig(Path model, int contextPerSequence, int parallel, int threads, Duration startTimeout, Path workDir,
      boolean nativeLog, java.util.List<String> extraArgs, GpuBinding gpu) {
    this(model, contextPerSequence, parallel, threads, startTimeout, workDir, nativeLog, extraArgs, gpu, RunTask.GENERATE);
  }

  public EngineConfig(Path model, int contextPerSequence, int parallel, int threads, Duration startTimeout, Path workDir,
      boolean nativeLog, java.util.List<String> extraArgs) {
    this(model, contextPerSequence, parallel, threads, startTimeout, workDir, nativeLog, extraArgs, GpuBinding.CPU);
  }

  public EngineConfig(Path model, int contextPerSequence, int parallel, int threads, Duration startTimeout, Path workDir) {
    this(model, contextPerSequence, parallel, threads, startTimeout, workDir, false, java.util.List.of(), GpuBinding.CPU);
  }

  public int totalContext() {
    return contextPerSequence * parallel;
  }
}
