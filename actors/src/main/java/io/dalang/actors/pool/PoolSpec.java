package io.dalang.actors.pool;

import io.dalang.protocols.CborSerializable;

/**
 * A pool's desired state: the model it serves, on which engine, with how many replicas of which size.
 *
 * @param gpuOffload how much of the model must sit on a GPU device for a placement there:
 *     {@link #OFFLOAD_FULL} (every layer, else the device is infeasible) or {@link #OFFLOAD_PARTIAL}
 *     (as many layers as fit, the rest on the CPU; the default, also for pools created before it existed)
 */
public record PoolSpec(
    String modelId,
    String modelPath,
    String modelDigest,
    String engine,
    int replicas,
    int contextPerSequence,
    int parallel,
    int threads,
    String gpuOffload)
    implements CborSerializable {

  public static final String OFFLOAD_FULL = "full";
  public static final String OFFLOAD_PARTIAL = "partial";

  public PoolSpec {
    gpuOffload = gpuOffload == null || gpuOffload.isBlank() ? OFFLOAD_PARTIAL : gpuOffload;
    if (!gpuOffload.equals(OFFLOAD_FULL) && !gpuOffload.equals(OFFLOAD_PARTIAL)) {
      throw new IllegalArgumentException("gpu_offload must be 'full' or 'partial', got '" + gpuOffload + "'");
    }
  }

  public PoolSpec(String modelId, String modelPath, String modelDigest, String engine, int replicas, int contextPerSequence,
      int parallel, int threads) {
    this(modelId, modelPath, modelDigest, engine, replicas, contextPerSequence, parallel, threads, OFFLOAD_PARTIAL);
  }

  public boolean partialOffloadAllowed() {
    return OFFLOAD_PARTIAL.equals(gpuOffload);
  }

  public PoolSpec withEngine(String newEngine) {
    return new PoolSpec(modelId, modelPath, modelDigest, newEngine, replicas, contextPerSequence, parallel, threads, gpuOffload);
  }

  public PoolSpec withReplicas(int newReplicas) {
    return new PoolSpec(modelId, modelPath, modelDigest, engine, newReplicas, contextPerSequence, parallel, threads, gpuOffload);
  }
}
