package io.dalang.actors.pool;

import io.dalang.engine.sim.SimProfile;
import io.dalang.engine.upstream.OpenAiUpstreamEngine;
import io.dalang.engine.upstream.UpstreamEndpoint;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.generation.RunTask;
import java.util.List;

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
 * @param upstreams the servers of an {@code openai-upstream} pool, one replica each; null for other engines
 *     (whose {@code modelPath} is a model file)
 * @param simulated how a {@code simulated} pool's engines behave; null for other engines
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
    String catalogRef,
    List<UpstreamEndpoint> upstreams,
    SimProfile simulated)
    implements CborSerializable {

  public static final String OFFLOAD_FULL = "full";
  public static final String OFFLOAD_PARTIAL = "partial";
  /** The engine of pools whose replicas are OpenAI-compatible servers Dalang does not start. */
  public static final String UPSTREAM_ENGINE = OpenAiUpstreamEngine.KIND;
  /** The engine that only pretends (timers, no model). */
  public static final String SIMULATED_ENGINE = io.dalang.engine.sim.SimulatedEngine.KIND;

  /** Whether a slot of {@code engine} loads a model file (the llama.cpp engines) or has none (upstreams, the simulator). */
  public static boolean loadsModelFile(String engine) {
    return !UPSTREAM_ENGINE.equals(engine) && !SIMULATED_ENGINE.equals(engine);
  }

  public PoolSpec {
    gpuOffload = gpuOffload == null || gpuOffload.isBlank() ? OFFLOAD_PARTIAL : gpuOffload;
    if (!gpuOffload.equals(OFFLOAD_FULL) && !gpuOffload.equals(OFFLOAD_PARTIAL)) {
      throw new IllegalArgumentException("gpu_offload must be 'full' or 'partial', got '" + gpuOffload + "'");
    }
    task = RunTask.parse(task).wire();
    upstreams = upstreams == null ? null : List.copyOf(upstreams);
  }

  public PoolSpec(String modelId, String modelPath, String modelDigest, String engine, int replicas, int contextPerSequence,
      int parallel, int threads, String gpuOffload, String task, String catalogRef) {
    this(modelId, modelPath, modelDigest, engine, replicas, contextPerSequence, parallel, threads, gpuOffload, task, catalogRef, null, null);
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
    return new PoolSpec(modelId, modelPath, modelDigest, newEngine, replicas, contextPerSequence, parallel, threads, gpuOffload, task, catalogRef,
        upstreams, simulated);
  }

  public PoolSpec withReplicas(int newReplicas) {
    return new PoolSpec(modelId, modelPath, modelDigest, engine, newReplicas, contextPerSequence, parallel, threads, gpuOffload, task, catalogRef,
        upstreams, simulated);
  }

  /** This spec serving another model file (a rollout's version): the rest stays. */
  public PoolSpec withModel(String newModelPath, String newModelDigest, String newCatalogRef) {
    return new PoolSpec(modelId, newModelPath, newModelDigest, engine, replicas, contextPerSequence, parallel, threads, gpuOffload, task,
        newCatalogRef, upstreams, simulated);
  }

  /** Whether its slots load a model file ({@link #loadsModelFile(String)}). */
  public boolean loadsModelFile() {
    return loadsModelFile(engine);
  }

  /** The endpoint of this upstream pool served by the provider {@code provider}; null when it lists none such. */
  public UpstreamEndpoint upstream(String provider) {
    if (upstreams == null || provider == null) return null;
    return upstreams.stream().filter(u -> u.provider().equals(provider)).findFirst().orElse(null);
  }
}
