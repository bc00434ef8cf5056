package io.dalang.actors.placement;

import io.dalang.actors.engine.EngineActor;
import io.dalang.protocols.CborSerializable;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The live status of one model slot, published by its engine actor on every change and on a heartbeat
 * to the {@link #TOPIC} topic. Placement and readiness read the fleet from these; a status older than
 * the TTL counts as lost.
 *
 * @param state {@code Loading}, {@code Ready}, {@code Draining}, {@code Failed} or {@code Stopped}
 * @param deviceKind {@code cpu}, {@code cuda}, {@code vulkan} or {@code rocm}
 * @param computeCapability the CUDA device's compute capability, empty for a CPU device
 * @param quantization the model file's type as llama.cpp names it ({@code F32}, {@code Q8_0}, ...), empty until loaded
 * @param extensions engine features beyond plain generation ({@code grammar}, {@code embeddings}, ...)
 * @param enginePid OS process id of an out-of-process engine, -1 otherwise
 * @param engineUrl base URL of an out-of-process engine's own HTTP API, empty otherwise
 * @param gpuLayers layers of the model the engine holds on its GPU device, as it reported while loading; 0 on the CPU
 */
public record SlotStatus(
    String slotId,
    String poolId,
    String modelId,
    String nodeId,
    String deviceId,
    String state,
    String engineKind,
    String engineVersion,
    String deviceKind,
    String computeCapability,
    String quantization,
    Set<String> extensions,
    int contextPerSequence,
    int slotsTotal,
    int slotsFree,
    int queued,
    int restarts,
    long enginePid,
    String engineUrl,
    ActorRef<EngineActor.Command> engine,
    long publishedAtMillis,
    int gpuLayers,
    String modelVersion)
    implements CborSerializable {

  /** A status without the catalog version (a slot of a {@code model_path} pool, or older nodes). */
  public SlotStatus(String slotId, String poolId, String modelId, String nodeId, String deviceId, String state, String engineKind,
      String engineVersion, String deviceKind, String computeCapability, String quantization, Set<String> extensions, int contextPerSequence,
      int slotsTotal, int slotsFree, int queued, int restarts, long enginePid, String engineUrl, ActorRef<EngineActor.Command> engine,
      long publishedAtMillis, int gpuLayers) {
    this(slotId, poolId, modelId, nodeId, deviceId, state, engineKind, engineVersion, deviceKind, computeCapability, quantization,
        extensions, contextPerSequence, slotsTotal, slotsFree, queued, restarts, enginePid, engineUrl, engine, publishedAtMillis, gpuLayers, null);
  }

  public SlotStatus(String slotId, String poolId, String modelId, String nodeId, String deviceId, String state, String engineKind,
      String engineVersion, String deviceKind, String computeCapability, String quantization, Set<String> extensions, int contextPerSequence,
      int slotsTotal, int slotsFree, int queued, int restarts, long enginePid, String engineUrl, ActorRef<EngineActor.Command> engine,
      long publishedAtMillis) {
    this(slotId, poolId, modelId, nodeId, deviceId, state, engineKind, engineVersion, deviceKind, computeCapability, quantization,
        extensions, contextPerSequence, slotsTotal, slotsFree, queued, restarts, enginePid, engineUrl, engine, publishedAtMillis, 0);
  }

  public static final String TOPIC = "dalang-slot-status";
  public static final String READY = "Ready";

  public boolean ready() {
    return READY.equals(state);
  }

  /** This status with other load figures (published at the same time). */
  public SlotStatus withLoad(int free, int queuedRuns) {
    return new SlotStatus(slotId, poolId, modelId, nodeId, deviceId, state, engineKind, engineVersion, deviceKind,
        computeCapability, quantization, extensions, contextPerSequence, slotsTotal, free, queuedRuns, restarts, enginePid,
        engineUrl, engine, publishedAtMillis, gpuLayers, modelVersion);
  }

  /** This status in another state (published at the same time). */
  public SlotStatus withState(String newState) {
    return new SlotStatus(slotId, poolId, modelId, nodeId, deviceId, newState, engineKind, engineVersion, deviceKind,
        computeCapability, quantization, extensions, contextPerSequence, slotsTotal, slotsFree, queued, restarts, enginePid,
        engineUrl, engine, publishedAtMillis, gpuLayers, modelVersion);
  }

  /**
   * The fields placement filters on, without the load figures: when this changes for a slot, decisions
   * cached for the old fleet no longer hold.
   */
  public List<Object> structure() {
    return Arrays.asList(slotId, poolId, modelId, nodeId, deviceId, state, engineKind, engineVersion, deviceKind,
        computeCapability, quantization, extensions, contextPerSequence, slotsTotal, engine);
  }
}
