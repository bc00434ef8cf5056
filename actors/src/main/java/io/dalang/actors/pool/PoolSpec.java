package io.dalang.actors.pool;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.generation.RunTask;

/**
 * A pool's desired state: the model it serves, on which engine, with how many replicas of which size.
 *
 * @param gpuOffload how much of the model must sit on a GPU device for a placement there:
 *     {@link #OFFLOAD_FULL} (every layer, else the device is infeasible) or {@link #OFFLOAD_PARTIAL}
 *     (as many layers as fit, the rest on the CPU; the default, also for pools created before it existed)
 * @param task what the pool's engines are started for: {@code generate} (the default, also for pools
 *     created before it existed), {@code embed} or {@code rerank} ({@link RunTask}); its slots take only
 *     runs of that task
 * @param catalogRef the catalog version the pool serves ({@code name@v2}); null for a pool made from a
 *     {@code model_path} (then {@code modelPath} must be on every node); for a catalog model
 *     {@code modelPath} is the blob on the control node that holds it, and nodes pull it by {@code modelDigest}
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
    String gpuOffload,
    String task,
    String catalogRef)
    implements CborSerializable {

  public static final String OFFLOAD_FULL = "full";
  public static final String OFFLOAD_PARTIAL = "partial";

  public PoolSpec {
    gpuOffload = gpuOffload == null || gpuOffload.isBlank() ? OFFLOAD_PARTIAL : gpuOffload;
    if (!gpuOffload.equals(OFFLOAD_FULL) && !gpuOffload.equals(OFFLOAD_PARTIAL)) {
      throw new IllegalArgumentException("gpu_offload must be 'full' or 'partial', got '" + gpuOffload + "'");
    }
    task = RunTask.parse(task).wire();
  }

  public PoolSpec(String modelId, String modelPath, String modelDigest, String engine, int replicas, int contextPerSequence,
      int parallel, int threads, String gpuOffload) {
    this(modelId, modelPath, modelDigest, engine, replicas, contextPerSequence, parallel, threads, gpuOffload, null, null);
  }

  public PoolSpec(String modelId, String modelPath, String modelDigest, String engine, int replicas, int contextPerSequence,
      int parallel, int threads, String gpuOffload, String task) {
    this(modelId, modelPath, modelDigest, engine, replicas, contextPerSequence, parallel, threads, gpuOffload, task, null);
  }

  public PoolSpec(String modelId, String modelPath, String modelDigest, String engine, int replicas, int contextPerSequence,
      int parallel, int threads) {
    this(modelId, modelPath, modelDigest, engine, replicas, contextPerSequence, parallel, threads, OFFLOAD_PARTIAL, null, null);
  }

  public boolean partialOffloadAllowed() {
    return OFFLOAD_PARTIAL.equals(gpuOffload);
  }

  public PoolSpec withEngine(String newEngine) {
    return new PoolSpec(modelId, modelPath, modelDigest, newEngine, replicas, contextPerSequence, parallel, threads, gpuOffload, task, catalogRef);
  }

  public PoolSpec withReplicas(int newReplicas) {
    return new PoolSpec(modelId, modelPath, modelDigest, engine, newReplicas, contextPerSequence, parallel, threads, gpuOffload, task, catalogRef);
  }

  /** This spec serving another model file (a rollout's version): the rest stays. */
  public PoolSpec withModel(String newModelPath, String newModelDigest, String newCatalogRef) {
    return new PoolSpec(modelId, newModelPath, newModelDigest, engine, replicas, contextPerSequence, parallel, threads, gpuOffload, task,
        newCatalogRef);
  }
}
