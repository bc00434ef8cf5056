package io.dalang.actors.slot;

import io.dalang.engine.sim.SimProfile;
import io.dalang.engine.upstream.UpstreamEndpoint;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.generation.RunTask;

/**
 * What one model slot runs: which model file (and its expected digest), on which engine, node and
 * device, with how much context and how many parallel sequences, and how many of the model's layers go
 * to the device when it is a GPU ({@code gpuLayers}; 0 on the CPU), and for which task its engine is
 * started ({@code generate}, {@code embed}, {@code rerank}: its pool's), and the catalog version it
 * serves ({@code catalogRef}, {@code name@v2}; null for a pool of the older {@code model_path} form, whose
 * file is expected at {@code modelPath} on every node), and, for engines without a model file, the
 * upstream server it fronts ({@code upstream}, an {@code openai-upstream} slot) or how it simulates
 * ({@code simulated}); both null otherwise.
 */
public record SlotSpec(
    String slotId,
    String poolId,
    String modelId,
    String modelPath,
    String modelDigest,
    String engine,
    String nodeId,
    String deviceId,
    int contextPerSequence,
    int parallel,
    int threads,
    int gpuLayers,
    String task,
    String catalogRef,
    UpstreamEndpoint upstream,
    SimProfile simulated)
    implements CborSerializable {

  public SlotSpec {
    task = RunTask.parse(task).wire();
  }

  public SlotSpec(String slotId, String poolId, String modelId, String modelPath, String modelDigest, String engine, String nodeId,
      String deviceId, int contextPerSequence, int parallel, int threads, int gpuLayers, String task, String catalogRef) {
    this(slotId, poolId, modelId, modelPath, modelDigest, engine, nodeId, deviceId, contextPerSequence, parallel, threads, gpuLayers, task,
        catalogRef, null, null);
  }

  /** Whether its engine loads a model file (the llama.cpp engines) or has none (an upstream, the simulator). */
  public boolean loadsModelFile() {
    return io.dalang.actors.pool.PoolSpec.loadsModelFile(engine);
  }

  public SlotSpec(String slotId, String poolId, String modelId, String modelPath, String modelDigest, String engine, String nodeId,
      String deviceId, int contextPerSequence, int parallel, int threads, int gpuLayers, String task) {
    this(slotId, poolId, modelId, modelPath, modelDigest, engine, nodeId, deviceId, contextPerSequence, parallel, threads, gpuLayers, task, null);
  }

  public SlotSpec(String slotId, String poolId, String modelId, String modelPath, String modelDigest, String engine, String nodeId,
      String deviceId, int contextPerSequence, int parallel, int threads, int gpuLayers) {
    this(slotId, poolId, modelId, modelPath, modelDigest, engine, nodeId, deviceId, contextPerSequence, parallel, threads, gpuLayers, null, null);
  }

  public SlotSpec(String slotId, String poolId, String modelId, String modelPath, String modelDigest, String engine, String nodeId,
      String deviceId, int contextPerSequence, int parallel, int threads) {
    this(slotId, poolId, modelId, modelPath, modelDigest, engine, nodeId, deviceId, contextPerSequence, parallel, threads, 0);
  }

  public SlotSpec withEngine(String newEngine) {
    return new SlotSpec(slotId, poolId, modelId, modelPath, modelDigest, newEngine, nodeId, deviceId,
        contextPerSequence, parallel, threads, gpuLayers, task, catalogRef, upstream, simulated);
  }
}
