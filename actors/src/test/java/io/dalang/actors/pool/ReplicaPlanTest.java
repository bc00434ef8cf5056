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
}
