package io.dalang.actors.pool;

import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.placement.SlotFeasibility;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.gguf.OffloadProfile;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.node.Device;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What it takes to bring every pool to its replica count, given the cluster's executors: the replicas
 * whose node is gone are lost, a replica its node's executor does not run as the pool specifies (a
 * placement cut short, or a changed spec) is assigned again, and each missing replica goes to the
 * feasible device ({@link SlotFeasibility}) of a live node that runs the fewest replicas of that pool,
 * so a pool spreads over nodes before it doubles up on one. A pure function of its inputs;
 * {@link ReplicaReconciler} applies it.
 */
public final class ReplicaPlan {
  /** Memory an engine takes beyond the model's own buffers (runtime, thread pools); CUDA adds its context on top. */
  public static final long ENGINE_OVERHEAD_MIB = 64;
  /** What both llama.cpp engines offer. */
  public static final Set<String> ENGINE_EXTENSIONS = Set.of("grammar", "logprobs", "stop");

  private ReplicaPlan() {}

  /**
   * Where a registered executor's node stands: {@code LIVE} (an Up, reachable member: may get replicas),
   * {@code GONE} (downed or removed from the cluster: its replicas are lost), {@code UNKNOWN} (not Up
   * yet, leaving, or unreachable but not downed: its replicas still count, it gets no new ones),
   * {@code DRAINING} (its executor reported it is leaving: its replicas no longer count, so they are
   * placed elsewhere while they finish their runs, but they are not lost until the node is gone).
   */
  public enum NodeState { LIVE, GONE, UNKNOWN, DRAINING }

  public record Node(ExecutorEntity.ExecutorView executor, NodeState state) {}

  public sealed interface Action {}

  /** The replica {@code placement} of {@code poolId} went with its node. */
  public record Lose(String poolId, PoolEntity.SlotPlacement placement, String reason) implements Action {}

  /** The replica {@code spec} of {@code poolId} must be (again) provisioned and assigned to its node's executor. */
  public record Assign(String poolId, SlotSpec spec) implements Action {}

  /**
   * A new replica {@code slotId} of {@code poolId} on {@code nodeId}'s {@code deviceId}, taking
   * {@code memoryMib} there, with {@code gpuLayers} of the model's layers on the device (0 on a CPU), of
   * the version a rollout moves to when {@code next}, fronting the upstream server of provider
   * {@code upstream} in an {@code openai-upstream} pool (null otherwise).
   */
  public record Place(String poolId, String slotId, String nodeId, String deviceId, long memoryMib, int gpuLayers, boolean next,
      String upstream) implements Action {
    public Place(String poolId, String slotId, String nodeId, String deviceId, long memoryMib, int gpuLayers, boolean next) {
      this(poolId, slotId, nodeId, deviceId, memoryMib, gpuLayers, next, null);
    }

    public Place(String poolId, String slotId, String nodeId, String deviceId, long memoryMib, int gpuLayers) {
      this(poolId, slotId, nodeId, deviceId, memoryMib, gpuLayers, false);
    }

    public Place(String poolId, String slotId, String nodeId, String deviceId, long memoryMib) {
      this(poolId, slotId, nodeId, deviceId, memoryMib, 0);
    }
  }

  /**
   * The replica {@code placement} of {@code poolId} is beyond the pool's replica count (it was scaled
   * down): drained, taken from its executor, then out of the pool.
   */
  public record Retire(String poolId, PoolEntity.SlotPlacement placement) implements Action {}

  /** {@code missing} replicas of {@code poolId} fit nowhere now; {@code reason} says why for each device. */
  public record Unplaceable(String poolId, int missing, String reason) implements Action {}

  /**
   * @param pools every pool (views of unknown pools are skipped)
   * @param nodes every registered executor by node id
   * @param memoryMibByPool each pool's estimated memory per replica; a pool without one gets no new replicas
   */
  public static List<Action> plan(List<PoolEntity.PoolView> pools, Map<String, Node> nodes, Map<String, Long> memoryMibByPool) {
    return plan(pools, nodes, memoryMibByPool, Map.of());
  }

  /**
   * @param offloadByPool each pool's device memory per layer, for partial offloads to GPU devices; a pool
   *     without one goes to a GPU device whole or not at all
   */
  public static List<Action> plan(List<PoolEntity.PoolView> pools, Map<String, Node> nodes, Map<String, Long> memoryMibByPool,
      Map<String, OffloadProfile> offloadByPool) {
    return plan(pools, nodes, memoryMibByPool, offloadByPool, Set.of());
  }

  /**
   * @param ready the replicas of pools in a rollout whose slots are Ready: only a Ready new replica takes
   *     an old one's place
   */
  public static List<Action> plan(List<PoolEntity.PoolView> pools, Map<String, Node> nodes, Map<String, Long> memoryMibByPool,
      Map<String, OffloadProfile> offloadByPool, Set<String> ready) {
    return plan(pools, nodes, memoryMibByPool, offloadByPool, ready, DiskRoom.UNKNOWN, Map.of());
  }

  /**
   * @param disk the GPU nodes' model caches: a replica of a catalog model goes only where its blob fits ({@link DiskRoom})
   * @param blobBytesByPool the size of each pool's model blob (and of a rollout's version, under {@link #nextKey}); a
   *     pool without one is not held to the disk
   */
  public static List<Action> plan(List<PoolEntity.PoolView> pools, Map<String, Node> nodes, Map<String, Long> memoryMibByPool,
      Map<String, OffloadProfile> offloadByPool, Set<String> ready, DiskRoom disk, Map<String, Long> blobBytesByPool) {
    var diskPass = disk.pass(nodes);
    var nextDigests = new HashMap<String, String>();
    for (var p : pools) if (p.exists() && p.rollingOut()) nextDigests.put(p.poolId(), p.rollout().next().modelDigest());
    var reserved = reservations(nodes, memoryMibByPool, offloadByPool, nextDigests);
    var actions = new ArrayList<Action>();
    for (PoolEntity.PoolView pool : pools.stream().filter(PoolEntity.PoolView::exists)
        .sorted(Comparator.comparing(PoolEntity.PoolView::poolId)).toList()) {
      var perNode = new TreeMap<String, Integer>();
      var kept = new ArrayList<PoolEntity.SlotPlacement>();
      int present = 0;
      var specs = pool.slotSpecs();
      for (int i = 0; i < pool.slots().size(); i++) {
        PoolEntity.SlotPlacement p = pool.slots().get(i);
        Node n = nodes.get(p.nodeId());
        if (n != null && n.state() == NodeState.GONE) {
          actions.add(new Lose(pool.poolId(), p, "node " + p.nodeId() + " (" + n.executor().address() + ") left the cluster"));
          continue;
        }
        if (n != null && n.state() == NodeState.DRAINING) continue;
        present++;
        kept.add(p);
        perNode.merge(p.nodeId(), 1, Integer::sum);
        SlotSpec spec = specs.get(i);
        if (n != null && !n.executor().slots().contains(spec)) actions.add(new Assign(pool.poolId(), spec));
      }
      if (pool.rollingOut()) {
        actions.addAll(rollout(pool, kept, perNode, nodes, memoryMibByPool, offloadByPool, reserved, ready, diskPass, blobBytesByPool));
        continue;
      }
      int missing = pool.spec().replicas() - present;
      if (missing < 0) {
        actions.addAll(retire(pool.poolId(), kept, perNode, -missing));
        continue;
      }
      if (missing == 0) continue;
      new Placer(pool, nodes, memoryMibByPool, offloadByPool, perNode, reserved, diskPass, blobBytesByPool).fronting(kept).place(missing, false, actions);
    }
    return actions;
  }

  /** The key of a rollout's new version in the memory maps: {@code <pool>#next}. */
  public static String nextKey(String poolId) {
    return poolId + "#next";
  }

  /**
   * A pool in a rollout ({@link Rollout}): new replicas ({@code next}) added and old ones retired as its
   * phase says, counting only Ready new replicas on live nodes as able to take an old one's place.
   */
  private static List<Action> rollout(PoolEntity.PoolView pool, List<PoolEntity.SlotPlacement> kept, Map<String, Integer> perNode,
      Map<String, Node> nodes, Map<String, Long> memoryMibByPool, Map<String, OffloadProfile> offloadByPool, Map<String, Long> reserved,
      Set<String> ready, DiskRoom.Pass disk, Map<String, Long> blobBytesByPool) {
    Rollout r = pool.rollout();
    int replicas = pool.spec().replicas();
    int floor = replicas - r.maxUnavailable();
    var old = kept.stream().filter(p -> !p.next()).toList();
    var neu = kept.stream().filter(PoolEntity.SlotPlacement::next).toList();
    java.util.function.Predicate<PoolEntity.SlotPlacement> isReady = p -> ready.contains(p.slotId()) && live(p, nodes);
    int readyOld = (int) old.stream().filter(isReady).count();
    int readyNew = (int) neu.stream().filter(isReady).count();
    var actions = new ArrayList<Action>();
    var placer = new Placer(pool, nodes, memoryMibByPool, offloadByPool, perNode, reserved, disk, blobBytesByPool);
    switch (r.phase()) {
      case Rollout.CANARY, Rollout.SPLIT -> {
        placer.place(replicas - old.size(), false, actions);
        placer.place(Math.min(r.canaryReplicas(replicas), Math.max(replicas, 1)) - neu.size(), true, actions);
      }
      case Rollout.ROLLING -> {
        int room = replicas + r.surge(replicas) - old.size() - neu.size();
        placer.place(Math.min(replicas - neu.size(), room), true, actions);
        // Old replicas beyond what the Ready new ones replace go: those that serve nothing first, a Ready
        // one only while at least replicas - maxUnavailable stay Ready.
        int excess = Math.min(old.size(), old.size() + readyNew - floor);
        actions.addAll(retireKeepingReady(pool.poolId(), old, isReady, excess, readyOld, readyNew, floor));
      }
      case Rollout.ROLLING_BACK -> {
        placer.place(replicas - old.size(), false, actions);
        // The new replicas go, but a Ready one only while enough stay Ready: a rollback must not leave the
        // pool without replicas while the old ones load again.
        actions.addAll(retireKeepingReady(pool.poolId(), neu, isReady, neu.size(), readyNew, readyOld, floor));
      }
      default -> { } // paused: nothing added or retired; lost replicas were handled above
    }
    return actions;
  }

  /**
   * Up to {@code count} of {@code candidates} to retire: the ones that are not Ready first (newest first),
   * then Ready ones (newest first) only while {@code readyOthers} plus the Ready candidates left stay at
   * {@code floor} or more.
   */
  private static List<Action> retireKeepingReady(String poolId, List<PoolEntity.SlotPlacement> candidates,
      java.util.function.Predicate<PoolEntity.SlotPlacement> isReady, int count, int readyCandidates, int readyOthers, int floor) {
    var order = new ArrayList<PoolEntity.SlotPlacement>(candidates);
    order.sort(Comparator.<PoolEntity.SlotPlacement, Boolean>comparing(isReady::test)
        .thenComparing(Comparator.comparingInt((PoolEntity.SlotPlacement p) -> index(poolId, p.slotId())).reversed()));
    var out = new ArrayList<Action>();
    int readyLeft = readyCandidates;
    for (var p : order) {
      if (out.size() >= count) break;
      if (isReady.test(p)) {
        if (readyLeft - 1 + readyOthers < floor) break;
        readyLeft--;
      }
      out.add(new Retire(poolId, p));
    }
    return out;
  }

  private static boolean live(PoolEntity.SlotPlacement p, Map<String, Node> nodes) {
    Node n = nodes.get(p.nodeId());
    return n != null && n.state() == NodeState.LIVE;
  }

  /** Places new replicas of one pool during a pass, spreading them over nodes and counting what each takes. */
  private static final class Placer {
    private final PoolEntity.PoolView pool;
    private final Map<String, Node> nodes;
    private final Map<String, Long> memoryMibByPool;
    private final Map<String, OffloadProfile> offloadByPool;
    private final Map<String, Integer> perNode;
    private final Map<String, Long> reserved;
    private int added;
    private boolean gaveUp;
    /** An upstream pool's servers that no replica fronts yet, in the pool's order. */
    private final java.util.ArrayDeque<String> unfronted = new java.util.ArrayDeque<>();

    private final DiskRoom.Pass disk;
    private final Map<String, Long> blobBytesByPool;

    Placer(PoolEntity.PoolView pool, Map<String, Node> nodes, Map<String, Long> memoryMibByPool, Map<String, OffloadProfile> offloadByPool,
        Map<String, Integer> perNode, Map<String, Long> reserved, DiskRoom.Pass disk, Map<String, Long> blobBytesByPool) {
      this.disk = disk;
      this.blobBytesByPool = blobBytesByPool;
      this.pool = pool;
      this.nodes = nodes;
      this.memoryMibByPool = memoryMibByPool;
      this.offloadByPool = offloadByPool;
      this.perNode = perNode;
      this.reserved = reserved;
    }

    /** Notes which of an upstream pool's servers the {@code kept} replicas front, so that new ones front the others. */
    Placer fronting(List<PoolEntity.SlotPlacement> kept) {
      if (pool.spec().upstreams() == null) return this;
      var taken = new java.util.HashSet<String>();
      for (var p : kept) if (p.upstream() != null) taken.add(p.upstream());
      for (var u : pool.spec().upstreams()) if (!taken.contains(u.provider())) unfronted.add(u.provider());
      return this;
    }

    /**
     * Adds up to {@code missing} replicas of the pool's spec (or of its rollout's version when {@code next}).
     * A replica of an engine without a model file (an upstream's, the simulator's) takes no memory and goes to
     * a CPU device; an upstream pool's replica fronts one of its servers that none fronts yet.
     */
    void place(int missing, boolean next, List<Action> actions) {
      if (missing <= 0 || gaveUp) return;
      String key = next ? nextKey(pool.poolId()) : pool.poolId();
      PoolSpec spec = next ? pool.rollout().next() : pool.spec();
      if (spec.upstreams() != null) missing = Math.min(missing, unfronted.size());
      Long mib = spec.loadsModelFile() ? memoryMibByPool.get(key) : Long.valueOf(0);
      if (mib == null) {
        actions.add(new Unplaceable(pool.poolId(), missing, "the memory estimate of model " + spec.modelPath() + " is unknown"));
        gaveUp = true;
        return;
      }
      // A catalog model's blob must fit the node's model cache (a model_path pool's file is on every node already).
      long blob = spec.catalogRef() != null ? blobBytesByPool.getOrDefault(key, 0L) : 0L;
      for (int k = 0; k < missing; k++) {
        String slotId = pool.nextSlotId(added);
        var r = new SlotFeasibility.Requirements(mib, "", true, Set.of(), offloadByPool.get(key), spec.partialOffloadAllowed(),
            deviceKinds(spec.engine()));
        var roomy = new HashMap<String, Node>();
        var noRoom = new ArrayList<String>();
        for (var e : nodes.entrySet()) {
          String why = e.getValue().state() == NodeState.LIVE ? disk.why(e.getKey(), spec.modelDigest(), blob) : null;
          if (why == null) roomy.put(e.getKey(), e.getValue());
          else noRoom.add(why);
        }
        var verdict = chooseSpreading(r, roomy, perNode, reserved);
        if (verdict == null) {
          String reason = explain(slotId, pool.poolId(), r, roomy, reserved);
          if (!noRoom.isEmpty()) {
            java.util.Collections.sort(noRoom);
            reason = reason + "; not on a node whose model cache lacks room: " + String.join("; ", noRoom);
          }
          actions.add(new Unplaceable(pool.poolId(), missing - k, reason));
          gaveUp = true;
          return;
        }
        var choice = verdict.candidate();
        actions.add(new Place(pool.poolId(), slotId, choice.nodeId(), choice.device().id(), verdict.memoryMib(), verdict.gpuLayers(), next,
            spec.upstreams() != null ? unfronted.poll() : null));
        added++;
        disk.take(choice.nodeId(), spec.modelDigest(), blob);
        perNode.merge(choice.nodeId(), 1, Integer::sum);
        reserved.merge(SlotFeasibility.deviceKey(choice), verdict.memoryMib(), Long::sum);
      }
    }
  }

  /**
   * The device kinds an engine can drive: the in-process engine is CPU-only; llama-server drives every
   * backend; an engine without a model file (an upstream, the simulator) runs on a CPU and keeps GPUs free.
   */
  public static Set<String> deviceKinds(String engine) {
    return IN_PROCESS_ENGINE.equals(engine) || !PoolSpec.loadsModelFile(engine) ? Set.of(Device.CPU) : SlotFeasibility.ALL_DEVICE_KINDS;
  }

  /** {@code io.dalang.engine.InProcessLlamaEngine.KIND}. */
  static final String IN_PROCESS_ENGINE = io.dalang.engine.InProcessLlamaEngine.KIND;

  /**
   * Device memory promised to the slots already assigned, per device: each slot's share of its device
   * (its layers there when it is partially offloaded). On a device whose free memory is a live reading,
   * a slot whose engine has loaded is in that reading already and is not counted again.
   */
  static Map<String, Long> reservations(Map<String, Node> nodes, Map<String, Long> memoryMibByPool,
      Map<String, OffloadProfile> offloadByPool, Map<String, String> nextDigests) {
    var reserved = new HashMap<String, Long>();
    for (Node n : nodes.values()) {
      if (n.state() == NodeState.GONE) continue;
      var executor = n.executor();
      for (SlotSpec s : executor.slots()) {
        Device d = executor.devices().stream().filter(x -> x.id().equals(s.deviceId())).findFirst().orElse(null);
        if (d != null && d.memoryMeasured() && executor.loadedSlots().contains(s.slotId())) continue;
        // A rollout's new replica takes what its version takes.
        String key = s.modelDigest() != null && s.modelDigest().equals(nextDigests.get(s.poolId())) ? nextKey(s.poolId()) : s.poolId();
        OffloadProfile o = offloadByPool.get(key);
        long mib = o != null && s.gpuLayers() > 0 ? o.deviceMib(s.gpuLayers()) : memoryMibByPool.getOrDefault(key, 0L);
        reserved.merge(executor.nodeId() + "/" + s.deviceId(), mib, Long::sum);
      }
    }
    return reserved;
  }

  /**
   * The {@code surplus} replicas to retire: each from the node that runs the most of the pool's replicas
   * (so the pool stays spread), the newest replica there first (highest index; ties by slot id).
   */
  private static List<Action> retire(String poolId, List<PoolEntity.SlotPlacement> kept, Map<String, Integer> perNode, int surplus) {
    var left = new ArrayList<>(kept);
    var counts = new HashMap<>(perNode);
    var out = new ArrayList<Action>();
    for (int k = 0; k < surplus && !left.isEmpty(); k++) {
      PoolEntity.SlotPlacement victim = left.stream().max(Comparator
          .<PoolEntity.SlotPlacement>comparingInt(p -> counts.getOrDefault(p.nodeId(), 0))
          .thenComparingInt(p -> index(poolId, p.slotId()))
          .thenComparing(PoolEntity.SlotPlacement::slotId)).orElseThrow();
      left.remove(victim);
      counts.merge(victim.nodeId(), -1, Integer::sum);
      out.add(new Retire(poolId, victim));
    }
    return out;
  }

  /** The index of slot {@code <pool>-<index>}; -1 for an id of another shape. */
  private static int index(String poolId, String slotId) {
    if (!slotId.startsWith(poolId + "-")) return -1;
    try {
      return Integer.parseInt(slotId.substring(poolId.length() + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** The best feasible device among the live nodes with the fewest of the pool's replicas, then the next fewest. */
  private static SlotFeasibility.Verdict chooseSpreading(SlotFeasibility.Requirements r, Map<String, Node> nodes,
      Map<String, Integer> perNode, Map<String, Long> reserved) {
    var byCount = new TreeMap<Integer, List<SlotFeasibility.Candidate>>();
    for (SlotFeasibility.Candidate c : candidates(nodes)) {
      byCount.computeIfAbsent(perNode.getOrDefault(c.nodeId(), 0), k -> new ArrayList<>()).add(c);
    }
    for (var group : byCount.values()) {
      var chosen = SlotFeasibility.best(SlotFeasibility.evaluate(r, group, ENGINE_EXTENSIONS, reserved));
      if (chosen.isPresent()) return chosen.get();
    }
    return null;
  }

  private static List<SlotFeasibility.Candidate> candidates(Map<String, Node> nodes) {
    var out = new ArrayList<SlotFeasibility.Candidate>();
    for (Node n : nodes.values()) {
      if (n.state() != NodeState.LIVE) continue;
      for (Device d : n.executor().devices()) out.add(new SlotFeasibility.Candidate(n.executor().nodeId(), d));
    }
    out.sort(Comparator.comparing(SlotFeasibility.Candidate::nodeId).thenComparing(c -> c.device().id()));
    return out;
  }

  private static String explain(String slotId, String poolId, SlotFeasibility.Requirements r, Map<String, Node> nodes,
      Map<String, Long> reserved) {
    try {
      SlotFeasibility.placeOrExplain("slot " + slotId + " of pool '" + poolId + "'", r, candidates(nodes), ENGINE_EXTENSIONS, reserved);
      return "no device is free for slot " + slotId;
    } catch (DalangException e) {
      return e.getMessage();
    }
  }
}
