package io.dalang.actors.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.pool.ReplicaPlan.NodeState;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.protocols.node.Device;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaPlanTest {
  static final PoolSpec SPEC = new PoolSpec("m", "/m.gguf", "abc", "llama-inprocess", 2, 512, 2, 2);
  static final Map<String, Long> MIB = Map.of("p", 100L);

  static PoolEntity.PoolView pool(int replicas, List<PoolEntity.SlotPlacement> slots, int added) {
    var spec = new PoolSpec(SPEC.modelId(), SPEC.modelPath(), SPEC.modelDigest(), SPEC.engine(), replicas, 512, 2, 2);
    return new PoolEntity.PoolView(true, "p", spec, slots, added);
  }

  static ReplicaPlan.Node node(String id, NodeState state, long freeMib, SlotSpec... slots) {
    var devices = List.of(new Device("cpu0", Device.CPU, 0, "cpu", freeMib, freeMib, ""));
    return new ReplicaPlan.Node(new ExecutorEntity.ExecutorView(true, id, "pekko://dalang@h:" + id.hashCode(), devices, List.of(slots), true,
        "registered", 1), state);
  }

  static Map<String, ReplicaPlan.Node> nodes(ReplicaPlan.Node... ns) {
    var m = new HashMap<String, ReplicaPlan.Node>();
    for (var n : ns) m.put(n.executor().nodeId(), n);
    return m;
  }

  static SlotSpec slotOn(String slotId, String node) {
    return new SlotSpec(slotId, "p", "m", "/m.gguf", "abc", "llama-inprocess", node, "cpu0", 512, 2, 2);
  }

  @Test
  void spreadsReplicasOverNodesBeforeDoublingUp() {
    var actions = ReplicaPlan.plan(List.of(pool(3, List.of(), 0)),
        nodes(node("n1", NodeState.LIVE, 4096), node("n2", NodeState.LIVE, 1024)), MIB);
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-0", "n1", "cpu0", 100), new ReplicaPlan.Place("p", "p-1", "n2", "cpu0", 100),
        new ReplicaPlan.Place("p", "p-2", "n1", "cpu0", 100)), actions);
  }

  @Test
  void losesTheReplicasOfAGoneNodeAndPlacesThemOnASurvivorUnderNewIds() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"), new PoolEntity.SlotPlacement("p-1", "n2", "cpu0"));
    var actions = ReplicaPlan.plan(List.of(pool(2, placed, 2)),
        nodes(node("n1", NodeState.GONE, 4096, slotOn("p-0", "n1")), node("n2", NodeState.LIVE, 4096, slotOn("p-1", "n2"))), MIB);
    assertEquals(2, actions.size(), actions.toString());
    var lose = assertInstanceOf(ReplicaPlan.Lose.class, actions.get(0));
    assertEquals("p-0", lose.placement().slotId());
    assertEquals(new ReplicaPlan.Place("p", "p-2", "n2", "cpu0", 100), actions.get(1));
  }

  @Test
  void aNodeNeitherLiveNorGoneKeepsItsReplicasAndGetsNoNewOnes() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"));
    var actions = ReplicaPlan.plan(List.of(pool(2, placed, 1)),
        nodes(node("n1", NodeState.UNKNOWN, 4096, slotOn("p-0", "n1")), node("n2", NodeState.UNKNOWN, 4096)), MIB);
    var none = assertInstanceOf(ReplicaPlan.Unplaceable.class, actions.get(0));
    assertEquals(1, none.missing());
    assertEquals(1, actions.size());
  }

  @Test
  void countsTheMemoryOfSlotsAlreadyOnADeviceAndExplainsWhyNothingFits() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"));
    var actions = ReplicaPlan.plan(List.of(pool(2, placed, 1)), nodes(node("n1", NodeState.LIVE, 150, slotOn("p-0", "n1"))), MIB);
    var none = assertInstanceOf(ReplicaPlan.Unplaceable.class, actions.get(0));
    assertTrue(none.reason().contains("needs 100 MiB, device has 50 MiB free"), none.reason());
  }

  @Test
  void theReplicasOfADrainingNodeArePlacedElsewhereButNotLostYet() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"));
    var actions = ReplicaPlan.plan(List.of(pool(1, placed, 1)),
        nodes(node("n1", NodeState.DRAINING, 4096, slotOn("p-0", "n1")), node("n2", NodeState.LIVE, 4096)), MIB);
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-1", "n2", "cpu0", 100)), actions);
  }

  @Test
  void aPoolAtItsReplicaCountNeedsNothing() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"));
    assertEquals(List.of(), ReplicaPlan.plan(List.of(pool(1, placed, 1)), nodes(node("n1", NodeState.LIVE, 4096, slotOn("p-0", "n1"))), MIB));
  }

  @Test
  void aReplicaItsExecutorDoesNotRunIsAssignedAgainNotPlacedTwice() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"));
    var actions = ReplicaPlan.plan(List.of(pool(1, placed, 1)), nodes(node("n1", NodeState.LIVE, 4096)), MIB);
    var assign = assertInstanceOf(ReplicaPlan.Assign.class, actions.get(0));
    assertEquals("p-0", assign.spec().slotId());
    assertEquals("n1", assign.spec().nodeId());
    assertEquals(1, actions.size(), actions.toString());
  }

  @Test
  void aScaledDownPoolRetiresTheNewestReplicasOfItsBusiestNodesFirst() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"), new PoolEntity.SlotPlacement("p-1", "n2", "cpu0"),
        new PoolEntity.SlotPlacement("p-2", "n1", "cpu0"), new PoolEntity.SlotPlacement("p-3", "n2", "cpu0"),
        new PoolEntity.SlotPlacement("p-4", "n1", "cpu0"));
    var all = nodes(node("n1", NodeState.LIVE, 4096, slotOn("p-0", "n1"), slotOn("p-2", "n1"), slotOn("p-4", "n1")),
        node("n2", NodeState.LIVE, 4096, slotOn("p-1", "n2"), slotOn("p-3", "n2")));
    // n1 runs three: its newest goes first; then both nodes run two, and the newest of all (p-3) goes.
    assertEquals(List.of(new ReplicaPlan.Retire("p", placed.get(4)), new ReplicaPlan.Retire("p", placed.get(3))),
        ReplicaPlan.plan(List.of(pool(3, placed, 5)), all, MIB));
    assertEquals(5, ReplicaPlan.plan(List.of(pool(0, placed, 5)), all, MIB).stream().filter(a -> a instanceof ReplicaPlan.Retire).count());
    assertEquals(List.of(), ReplicaPlan.plan(List.of(pool(5, placed, 5)), all, MIB), "at its count: nothing to do");
  }

  @Test
  void aDrainingNodesReplicasDoNotCountTowardsTheSurplus() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "cpu0"), new PoolEntity.SlotPlacement("p-1", "n2", "cpu0"));
    var actions = ReplicaPlan.plan(List.of(pool(1, placed, 2)),
        nodes(node("n1", NodeState.DRAINING, 4096, slotOn("p-0", "n1")), node("n2", NodeState.LIVE, 4096, slotOn("p-1", "n2"))), MIB);
    assertEquals(List.of(), actions, "n2's replica is the one the pool keeps");
  }

  /** Three layers of 100 MiB each plus 64 MiB of compute buffer and overhead on a device: 364 MiB in all. */
  static final io.dalang.gguf.OffloadProfile PROFILE = new io.dalang.gguf.OffloadProfile(
      new long[] {100L << 20, 100L << 20, 100L << 20}, 50L << 20, 14L << 20);

  static ReplicaPlan.Node gpuNode(String id, long freeMib, boolean measured, java.util.Set<String> loaded, SlotSpec... slots) {
    var devices = List.of(new Device("vulkan0", Device.VULKAN, 0, "gpu", 4096, freeMib, "", false, measured));
    return new ReplicaPlan.Node(new ExecutorEntity.ExecutorView(true, id, "pekko://dalang@h:" + id.hashCode(), devices, List.of(slots), true,
        "registered", 1, loaded), NodeState.LIVE);
  }

  static PoolEntity.PoolView serverPool(int replicas, String offload, List<PoolEntity.SlotPlacement> slots) {
    var spec = new PoolSpec("m", "/m.gguf", "abc", "llama-server", replicas, 512, 2, 2, offload);
    return new PoolEntity.PoolView(true, "p", spec, slots, slots.size());
  }

  static SlotSpec gpuSlot(String slotId, String node, int layers) {
    return new SlotSpec(slotId, "p", "m", "/m.gguf", "abc", "llama-server", node, "vulkan0", 512, 2, 2, layers);
  }

  @Test
  void aGpuReplicaRecordsHowManyLayersGoToTheDeviceAndTheSecondGetsWhatIsLeft() {
    var actions = ReplicaPlan.plan(List.of(serverPool(2, PoolSpec.OFFLOAD_PARTIAL, List.of())),
        nodes(gpuNode("n1", 600, false, java.util.Set.of())), Map.of("p", 400L), Map.of("p", PROFILE));
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-0", "n1", "vulkan0", 364, 3), new ReplicaPlan.Place("p", "p-1", "n1", "vulkan0", 164, 1)),
        actions, "600 MiB: the first replica whole (364), the second with one layer in the 236 left");
  }

  @Test
  void aFullOffloadPoolWaitsForRoomInsteadOfSpillingToTheCpu() {
    var actions = ReplicaPlan.plan(List.of(serverPool(1, PoolSpec.OFFLOAD_FULL, List.of())),
        nodes(gpuNode("n1", 300, false, java.util.Set.of())), Map.of("p", 400L), Map.of("p", PROFILE));
    var none = assertInstanceOf(ReplicaPlan.Unplaceable.class, actions.get(0));
    assertTrue(none.reason().contains("the pool wants a full offload"), none.reason());
  }

  @Test
  void theInProcessEngineIsNeverPlacedOnAGpu() {
    var actions = ReplicaPlan.plan(List.of(pool(1, List.of(), 0)), nodes(gpuNode("n1", 4000, false, java.util.Set.of())), MIB,
        Map.of("p", PROFILE));
    var none = assertInstanceOf(ReplicaPlan.Unplaceable.class, actions.get(0));
    assertTrue(none.reason().contains("runs on the CPU only"), none.reason());
  }

  @Test
  void aLoadedSlotIsInALiveReadingAlreadyButAPlacedNotYetLoadedOneIsNot() {
    var placed = List.of(new PoolEntity.SlotPlacement("p-0", "n1", "vulkan0", 3));
    var slot = gpuSlot("p-0", "n1", 3);
    // Live reading after p-0 loaded: 500 MiB free really are free.
    var loaded = ReplicaPlan.plan(List.of(serverPool(2, PoolSpec.OFFLOAD_FULL, placed)),
        nodes(gpuNode("n1", 500, true, java.util.Set.of("p-0"), slot)), Map.of("p", 400L), Map.of("p", PROFILE));
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-1", "n1", "vulkan0", 364, 3)), loaded);
    // The same reading taken before p-0 loaded: its 364 MiB are still to come out of the 500.
    var notYet = ReplicaPlan.plan(List.of(serverPool(2, PoolSpec.OFFLOAD_FULL, placed)),
        nodes(gpuNode("n1", 500, true, java.util.Set.of(), slot)), Map.of("p", 400L), Map.of("p", PROFILE));
    assertInstanceOf(ReplicaPlan.Unplaceable.class, notYet.get(0));
    // A device without a live reading (lavapipe, a configured size) always counts every slot placed there.
    var unmeasured = ReplicaPlan.plan(List.of(serverPool(2, PoolSpec.OFFLOAD_FULL, placed)),
        nodes(gpuNode("n1", 500, false, java.util.Set.of("p-0"), slot)), Map.of("p", 400L), Map.of("p", PROFILE));
    assertInstanceOf(ReplicaPlan.Unplaceable.class, unmeasured.get(0));
  }

  static final PoolSpec UPSTREAMS = new PoolSpec("m", "", null, PoolSpec.UPSTREAM_ENGINE, 3, 512, 8, 1, null, null, null,
      List.of(new io.dalang.engine.upstream.UpstreamEndpoint("a", "served", 8), new io.dalang.engine.upstream.UpstreamEndpoint("b", "served", 4),
          new io.dalang.engine.upstream.UpstreamEndpoint("c", "served", 2)), null);

  @Test
  void anUpstreamPoolFrontsEachServerOnceOnACpuWithoutAMemoryEstimate() {
    var gpuNode = new ReplicaPlan.Node(new ExecutorEntity.ExecutorView(true, "g", "pekko://dalang@h:9", List.of(
        new Device("cuda0", "cuda", 0, "H100", 80_000, 80_000, "9.0"), new Device("cpu0", Device.CPU, 0, "cpu", 1000, 1000, "")), List.of(), true,
        "registered", 1), NodeState.LIVE);
    var pool = new PoolEntity.PoolView(true, "p", UPSTREAMS, List.of(new PoolEntity.SlotPlacement("p-0", "g", "cpu0", 0, false, "b")), 1);
    var actions = ReplicaPlan.plan(List.of(pool), nodes(gpuNode), Map.of()); // no memory estimate: none is needed
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-1", "g", "cpu0", 0, 0, false, "a"), new ReplicaPlan.Place("p", "p-2", "g", "cpu0", 0, 0, false, "c")),
        actions.stream().filter(a -> a instanceof ReplicaPlan.Place).toList());
    var view = new PoolEntity.Active("p", UPSTREAMS, List.of(new PoolEntity.SlotPlacement("p-0", "g", "cpu0", 0, false, "b")), null, 1);
    var spec = view.slotSpec(view.slots().get(0));
    assertEquals("b", spec.upstream().provider());
    assertEquals(4, spec.parallel(), "a replica runs as many sequences as its server is given");
    assertTrue(!spec.loadsModelFile());
  }

  @Test
  void aSimulatedPoolTakesNoMemoryAndStaysOffTheGpus() {
    var sim = new PoolSpec("m", "", null, PoolSpec.SIMULATED_ENGINE, 2, 512, 64, 1, null, null, null, null,
        io.dalang.engine.sim.SimProfile.DEFAULT);
    var gpuNode = new ReplicaPlan.Node(new ExecutorEntity.ExecutorView(true, "g", "pekko://dalang@h:9", List.of(
        new Device("cuda0", "cuda", 0, "H100", 80_000, 80_000, "9.0"), new Device("cpu0", Device.CPU, 0, "cpu", 10, 10, "")), List.of(), true,
        "registered", 1), NodeState.LIVE);
    var actions = ReplicaPlan.plan(List.of(new PoolEntity.PoolView(true, "p", sim, List.of(), 0)), nodes(gpuNode), Map.of());
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-0", "g", "cpu0", 0, 0, false, null), new ReplicaPlan.Place("p", "p-1", "g", "cpu0", 0, 0, false, null)),
        actions);
  }

  static final String X = "a".repeat(64);
  static final String Y = "b".repeat(64);
  static final long MIB_BYTES = 1L << 20;

  static io.dalang.actors.model.ModelCacheAgent.CacheView cache(String node, long maxMib, long diskFreeMib, String... cached) {
    var blobs = java.util.Arrays.stream(cached).map(d -> new io.dalang.actors.model.ModelCacheAgent.Blob(d, 800 * MIB_BYTES, "2026-12-08T00:00:00Z")).toList();
    return new io.dalang.actors.model.ModelCacheAgent.CacheView(node, blobs.size() * 800 * MIB_BYTES, maxMib * MIB_BYTES, blobs, List.of(),
        diskFreeMib * MIB_BYTES);
  }

  static PoolEntity.PoolView catalogPool(int replicas) {
    var spec = new PoolSpec("m", "/store/sha256/" + Y, Y, "llama-inprocess", replicas, 512, 2, 2, null, null, "m@v2");
    return new PoolEntity.PoolView(true, "p", spec, List.of(), 0);
  }

  static SlotSpec catalogSlot(String slotId, String node, String digest) {
    return new SlotSpec(slotId, "other", "o", "/store/sha256/" + digest, digest, "llama-inprocess", node, "cpu0", 512, 2, 2, 0, null, "o@v1");
  }

  @Test
  void aCatalogReplicaGoesOnlyWhereItsBlobFitsTheNodesModelCache() {
    // n1: a 1000 MiB quota with 800 MiB held by a running model; n2: room. The 500 MiB blob goes to n2,
    // though n1 comes first and has more memory.
    var n1 = node("n1", NodeState.LIVE, 8192, catalogSlot("o-0", "n1", X));
    var n2 = node("n2", NodeState.LIVE, 1024);
    var disk = DiskRoom.of(List.of(cache("n1", 1000, 100_000, X), cache("n2", 10_000, 100_000)));
    var actions = ReplicaPlan.plan(List.of(catalogPool(1)), nodes(n1, n2), MIB, Map.of(), java.util.Set.of(), disk, Map.of("p", 500 * MIB_BYTES));
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-0", "n2", "cpu0", 100)), actions);
  }

  @Test
  void evictableBlobsMakeRoomButTheDiskAndHeldBlobsBound() {
    // n1 caches X, which nothing there holds any more: eviction frees it, so the blob fits under the quota.
    var n1 = node("n1", NodeState.LIVE, 8192);
    var fits = ReplicaPlan.plan(List.of(catalogPool(2)), nodes(n1), MIB, Map.of(), java.util.Set.of(),
        DiskRoom.of(List.of(cache("n1", 1000, 100_000, X))), Map.of("p", 500 * MIB_BYTES));
    assertEquals(2, fits.size(), "two replicas of one blob take its room once: " + fits);
    // The disk is the other bound: 100 MiB free plus 800 evictable is not 1000.
    var full = ReplicaPlan.plan(List.of(catalogPool(1)), nodes(n1), MIB, Map.of(), java.util.Set.of(),
        DiskRoom.of(List.of(cache("n1", 0, 100, X))), Map.of("p", 1000 * MIB_BYTES));
    var u = assertInstanceOf(ReplicaPlan.Unplaceable.class, full.get(0));
    assertTrue(u.reason().contains("node n1's model cache has room for 900 MiB, the blob needs 1000 MiB"), u.reason());
    // A node that holds the blob already needs no room at all.
    var held = ReplicaPlan.plan(List.of(catalogPool(1)), nodes(n1), MIB, Map.of(), java.util.Set.of(),
        DiskRoom.of(List.of(cache("n1", 1, 0, Y))), Map.of("p", 1000 * MIB_BYTES));
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-0", "n1", "cpu0", 100)), held);
    // A node whose cache did not answer is not held back.
    var unknown = ReplicaPlan.plan(List.of(catalogPool(1)), nodes(n1), MIB, Map.of(), java.util.Set.of(), DiskRoom.UNKNOWN,
        Map.of("p", 1000 * MIB_BYTES));
    assertEquals(1, unknown.size());
    assertInstanceOf(ReplicaPlan.Place.class, unknown.get(0));
  }
}
