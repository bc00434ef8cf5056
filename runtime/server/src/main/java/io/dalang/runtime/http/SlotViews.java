package io.dalang.runtime.http;

import io.dalang.actors.placement.SlotStatus;
import io.dalang.protocols.node.SlotView;

/** A slot's live status as each endpoint shows it: one {@link SlotView}, the fields each needs. */
public final class SlotViews {
  private SlotViews() {}

  /** {@code GET /admin/v1/fleet}: where the slot runs, its state and its load. */
  public static SlotView fleet(SlotStatus s) {
    return new SlotView(s.slotId(), null, s.poolId(), s.modelId(), s.nodeId(), s.deviceId(), s.deviceKind(), s.gpuLayers(), s.state(),
        s.engineKind(), null, null, null, s.slotsTotal(), s.slotsFree(), s.queued(), s.restarts());
  }

  /** A pool's replica ({@code /admin/v1/pools}): where the pool placed it, and its state as its slot entity has it. */
  public static SlotView replica(String slotId, String node, String device, int gpuLayers, String state) {
    return replica(slotId, node, device, gpuLayers, state, null);
  }

  /** A pool's replica, with why it failed or was lost ({@code detail}; null when it did not). */
  public static SlotView replica(String slotId, String node, String device, int gpuLayers, String state, String detail) {
    return new SlotView(slotId, null, null, null, node, device, null, gpuLayers, state, null, null, null, null, null, null, null, null, detail);
  }

  /** {@code GET /v1/capabilities}: what a tenant may know of a slot of its models. */
  static SlotView capability(SlotStatus s) {
    return new SlotView(null, s.slotId(), null, null, s.nodeId(), s.deviceId(), null, null, s.state(), s.engineKind(), s.engineVersion(),
        null, null, s.slotsTotal(), s.slotsFree(), null, null);
  }

  /** {@code GET /v1/placements/{run_id}}: a candidate slot as placement saw it. */
  static SlotView candidate(SlotStatus s) {
    return new SlotView(s.slotId(), null, s.poolId(), null, s.nodeId(), s.deviceId(), s.deviceKind(), null, s.state(), s.engineKind(),
        null, s.quantization(), s.contextPerSequence(), s.slotsTotal(), s.slotsFree(), s.queued(), null);
  }
}
