package io.dalang.actors.pool;

import io.dalang.protocols.CborSerializable;

/** A pool's desired state: the model it serves, on which engine, with how many replicas of which size. */
public record PoolSpec(
    String modelId,
    String modelPath,
    String modelDigest,
    String engine,
    int replicas,
    int contextPerSequence,
    int parallel,
    int threads)
    implements CborSerializable {

  public PoolSpec withEngine(String newEngine) {
    return new PoolSpec(modelId, modelPath, modelDigest, newEngine, replicas, contextPerSequence, parallel, threads);
  }

  public PoolSpec withReplicas(int newReplicas) {
    return new PoolSpec(modelId, modelPath, modelDigest, engine, newReplicas, contextPerSequence, parallel, threads);
  }
}
