package io.dalang.actors.placement.internal;

import io.dalang.actors.placement.SlotStatus;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The placement actor's view of the fleet: the live status of every slot, sorted by slot id, indexed
 * by model, under a {@link #version()} that goes up whenever anything placement filters on changes (a
 * slot appears, goes away, changes state, capacity, context, engine or device). Load figures (free
 * sequences, queue length) are updated in place without a new version, so a decision cached for a
 * version stays valid while the load moves and is re-scored on the current load.
 *
 * <p>Not thread-safe: owned by one actor (or one benchmark thread).
 */
public final class FleetTable {
  private static final int[] NONE = new int[0];

  private long version;
  private SlotStatus[] slots = new SlotStatus[0];
  private final Map<String, Integer> index = new HashMap<>();
  private final Map<String, int[]> byModel = new HashMap<>();

  public long version() {
    return version;
  }

  public int size() {
    return slots.length;
  }

  public SlotStatus get(int i) {
    return slots[i];
  }

  public java.util.Optional<SlotStatus> find(String slotId) {
    Integer i = index.get(slotId);
    return i == null ? java.util.Optional.empty() : java.util.Optional.of(slots[i]);
  }

  /** Indexes of the slots serving {@code modelId}, in slot id order. */
  public int[] slotsOf(String modelId) {
    return byModel.getOrDefault(modelId, NONE);
  }

  public List<SlotStatus> all() {
    return List.of(slots);
  }

  /**
   * Takes a published status; an older one than the slot's current status is ignored.
   *
   * @return true when the fleet's structure changed (the version went up)
   */
  public boolean update(SlotStatus s) {
    Integer i = index.get(s.slotId());
    if (i != null) {
      SlotStatus prev = slots[i];
      if (prev.publishedAtMillis() > s.publishedAtMillis()) return false;
      slots[i] = s;
      if (sameStructure(prev, s)) return false;
      version++;
      rebuildModelIndex();
      return true;
    }
    var list = new ArrayList<>(Arrays.asList(slots));
    list.add(s);
    rebuild(list);
    return true;
  }

  /** {@link SlotStatus#structure()} equality without building the lists: this runs on every status. */
  static boolean sameStructure(SlotStatus a, SlotStatus b) {
    return a.contextPerSequence() == b.contextPerSequence() && a.slotsTotal() == b.slotsTotal()
        && a.state().equals(b.state()) && a.slotId().equals(b.slotId()) && a.poolId().equals(b.poolId())
        && a.modelId().equals(b.modelId()) && a.nodeId().equals(b.nodeId()) && a.deviceId().equals(b.deviceId())
        && a.engineKind().equals(b.engineKind()) && a.engineVersion().equals(b.engineVersion())
        && a.deviceKind().equals(b.deviceKind()) && a.computeCapability().equals(b.computeCapability())
        && a.quantization().equals(b.quantization()) && a.extensions().equals(b.extensions())
        && java.util.Objects.equals(a.engine(), b.engine());
  }

  /** Replaces the whole fleet (a benchmark's or a test's); always a new version. */
  public void replaceAll(List<SlotStatus> statuses) {
    rebuild(new ArrayList<>(statuses));
  }

  /**
   * Drops slots whose last status is older than {@code ttlMillis}: a node that stopped publishing is
   * gone as far as placement is concerned.
   *
   * @return true when any slot was dropped (the version went up)
   */
  public boolean expire(long nowMillis, long ttlMillis) {
    var keep = new ArrayList<SlotStatus>(slots.length);
    for (SlotStatus s : slots) if (nowMillis - s.publishedAtMillis() <= ttlMillis) keep.add(s);
    if (keep.size() == slots.length) return false;
    rebuild(keep);
    return true;
  }

  private void rebuild(List<SlotStatus> list) {
    list.sort(Comparator.comparing(SlotStatus::slotId));
    slots = list.toArray(new SlotStatus[0]);
    index.clear();
    for (int i = 0; i < slots.length; i++) index.put(slots[i].slotId(), i);
    version++;
    rebuildModelIndex();
  }

  private void rebuildModelIndex() {
    var lists = new HashMap<String, List<Integer>>();
    for (int i = 0; i < slots.length; i++) lists.computeIfAbsent(slots[i].modelId(), k -> new ArrayList<>()).add(i);
    byModel.clear();
    lists.forEach((model, is) -> byModel.put(model, is.stream().mapToInt(Integer::intValue).toArray()));
  }
}
