package io.dalang.actors.placement;

import io.dalang.actors.placement.internal.FleetTable;
import java.util.Set;

/** Slot statuses for placement tests. */
public final class Slots {
  private Slots() {}

  public static SlotStatus slot(String id, String pool, String model, String state, int free) {
    return slot(id, pool, model, "n1", state, 4096, 4, free, 0, System.currentTimeMillis());
  }

  public static SlotStatus slot(String id, String pool, String model, String node, String state, int ctx, int total, int free, int queued,
      long publishedAt) {
    return new SlotStatus(id, pool, model, node, "gpu0", state, "llama-server", "v1", "cuda", "8.6", "Q8_0", Set.of("grammar"),
        ctx, total, free, queued, 0, -1, "", null, publishedAt);
  }

  /** The same status with other load figures (a load-only change), published later. */
  public static SlotStatus load(SlotStatus s, int free, int queued) {
    return later(s.withLoad(free, queued));
  }

  public static SlotStatus withState(SlotStatus s, String state) {
    return later(s.withState(state));
  }

  private static SlotStatus later(SlotStatus s) {
    return new SlotStatus(s.slotId(), s.poolId(), s.modelId(), s.nodeId(), s.deviceId(), s.state(), s.engineKind(), s.engineVersion(),
        s.deviceKind(), s.computeCapability(), s.quantization(), s.extensions(), s.contextPerSequence(), s.slotsTotal(), s.slotsFree(),
        s.queued(), s.restarts(), s.enginePid(), s.engineUrl(), s.engine(), s.publishedAtMillis() + 1);
  }

  public static SlotStatus device(SlotStatus s, String kind, String cc, String quantization, Set<String> extensions) {
    return new SlotStatus(s.slotId(), s.poolId(), s.modelId(), s.nodeId(), s.deviceId(), s.state(), s.engineKind(), s.engineVersion(),
        kind, cc, quantization, extensions, s.contextPerSequence(), s.slotsTotal(), s.slotsFree(), s.queued(), s.restarts(),
        s.enginePid(), s.engineUrl(), s.engine(), s.publishedAtMillis() + 1);
  }

  public static FleetTable fleet(SlotStatus... statuses) {
    var f = new FleetTable();
    f.replaceAll(java.util.List.of(statuses));
    return f;
  }
}
