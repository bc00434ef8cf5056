package io.dalang.actors.slot;

import io.dalang.protocols.CborSerializable;

/**
 * What one model slot runs: which model file (and its expected digest), on which engine, node and
 * device, with how much context and how many parallel sequences.
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
    int threads)
    implements CborSerializable {

  public SlotSpec withEngine(String newEngine) {
    return new SlotSpec(slotId, poolId, modelId, modelPath, modelDigest, newEngine, nodeId, deviceId,
        contextPerSequence, parallel, threads);
  }
}
