package io.dalang.actors.pool;

import static io.dalang.actors.pool.ReplicaPlanTest.node;
import static io.dalang.actors.pool.ReplicaPlanTest.nodes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dalang.actors.pool.ReplicaPlan.NodeState;
import io.dalang.actors.slot.SlotSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The replicas a rollout asks for in each phase ({@link ReplicaPlan} with a {@link Rollout}). */
class RolloutPlanTest {
  static final PoolSpec V1 = new PoolSpec("m", "/v1.gguf", "d1", "llama-inprocess", 2, 512, 2, 2, "partial", "generate", "m@v1");
  static final PoolSpec V2 = new PoolSpec("m", "/v2.gguf", "d2", "llama-inprocess", 2, 512, 2, 2, "partial", "generate", "m@v2");
  static final Map<String, Long> MIB = Map.of("p", 100L, ReplicaPlan.nextKey("p"), 100L);

  static Rollout rollout(String phase, String strategy) {
    var t = Instant.parse("2026-12-07T00:00:00Z");
    return new Rollout(V2, strategy, 1, 0, Rollout.HealthGate.DEFAULT, phase, null, t, t, "");
  }

  static PoolEntity.PoolView pool(String phase, String strategy, List<PoolEntity.SlotPlacement> slots, int added) {
    return new PoolEntity.PoolView(true, "p", V1, slots, added, rollout(phase, strategy));
  }

  static PoolEntity.SlotPlacement old(String id) {
    return new PoolEntity.SlotPlacement(id, "n1", "cpu0", 0, false);
  }

  static PoolEntity.SlotPlacement neu(String id) {
    return new PoolEntity.SlotPlacement(id, "n1", "cpu0", 0, true);
  }

  /** The executor of n1 runs what the pool says each placement runs. */
  static List<ReplicaPlan.Action> plan(PoolEntity.PoolView pool, Set<String> ready) {
    var specs = new ArrayList<SlotSpec>(pool.slotSpecs());
    return ReplicaPlan.plan(List.of(pool), nodes(node("n1", NodeState.LIVE, 4096, specs.toArray(SlotSpec[]::new))), MIB, Map.of(), ready);
  }

  @Test
  void theCanaryStartsOneNewReplicaBesideEveryOldOne() {
    var actions = plan(pool(Rollout.CANARY, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), old("p-1")), 2), Set.of("p-0", "p-1"));
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-2", "n1", "cpu0", 100, 0, true)), actions);
    // Once it is there, nothing more until the gate has spoken.
    assertEquals(List.of(), plan(pool(Rollout.CANARY, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), old("p-1"), neu("p-2")), 3),
        Set.of("p-0", "p-1", "p-2")));
  }

  @Test
  void blueGreenStartsAWholeSecondSet() {
    var actions = plan(pool(Rollout.CANARY, Rollout.BLUE_GREEN, List.of(old("p-0"), old("p-1")), 2), Set.of());
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-2", "n1", "cpu0", 100, 0, true),
        new ReplicaPlan.Place("p", "p-3", "n1", "cpu0", 100, 0, true)), actions);
  }

  @Test
  void rollingRetiresAnOldReplicaOnlyForEachReadyNewOne() {
    var slots = List.of(old("p-0"), old("p-1"), neu("p-2"));
    // The new replica is not Ready: nothing goes, nothing more is added (the surge is used).
    assertEquals(List.of(), plan(pool(Rollout.ROLLING, Rollout.ROLLING_STRATEGY, slots, 3), Set.of("p-0", "p-1")));
    // Ready: the newest old replica goes.
    assertEquals(List.of(new ReplicaPlan.Retire("p", old("p-1"))),
        plan(pool(Rollout.ROLLING, Rollout.ROLLING_STRATEGY, slots, 3), Set.of("p-0", "p-1", "p-2")));
    // One old left: the next new replica is added, and the old one stays until it is Ready.
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-3", "n1", "cpu0", 100, 0, true)),
        plan(pool(Rollout.ROLLING, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), neu("p-2")), 3), Set.of("p-0", "p-2")));
    assertEquals(List.of(new ReplicaPlan.Retire("p", old("p-0"))),
        plan(pool(Rollout.ROLLING, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), neu("p-2"), neu("p-3")), 4), Set.of("p-0", "p-2", "p-3")));
  }

  @Test
  void rollingBackRetiresTheNewReplicasButKeepsEnoughReadyWhileTheOldOnesComeBack() {
    var actions = plan(pool(Rollout.ROLLING_BACK, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), neu("p-2"), neu("p-3")), 4),
        Set.of("p-0", "p-2", "p-3"));
    // Two must stay Ready: one new replica goes now, the other once the old replica placed now is Ready.
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-4", "n1", "cpu0", 100, 0, false), new ReplicaPlan.Retire("p", neu("p-3"))), actions);
    assertEquals(List.of(new ReplicaPlan.Retire("p", neu("p-2"))),
        plan(pool(Rollout.ROLLING_BACK, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), neu("p-2"), old("p-4")), 5), Set.of("p-0", "p-2", "p-4")));
  }

  @Test
  void newReplicasThatAreNotReadyGoAtOnceInARollback() {
    var actions = plan(pool(Rollout.ROLLING_BACK, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), old("p-1"), neu("p-2")), 3), Set.of("p-0", "p-1"));
    assertEquals(List.of(new ReplicaPlan.Retire("p", neu("p-2"))), actions);
  }

  @Test
  void anOldReplicaThatIsNotReadyGoesFirstAndReadyOnesStayAtTheFloor() {
    // p-1 failed; the canary p-2 is Ready: p-1 goes, not a Ready one, so two stay Ready.
    var actions = plan(pool(Rollout.ROLLING, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), old("p-1"), neu("p-2")), 3), Set.of("p-0", "p-2"));
    assertEquals(List.of(new ReplicaPlan.Retire("p", old("p-1"))), actions);
  }

  @Test
  void aPausedRolloutAddsAndRetiresNothing() {
    assertEquals(List.of(), plan(pool(Rollout.PAUSED, Rollout.ROLLING_STRATEGY, List.of(old("p-0"), neu("p-2")), 3), Set.of("p-0", "p-2")));
  }

  @Test
  void aSplitKeepsEveryOldReplicaAndAddsItsShareOfNewOnes() {
    var t = Instant.parse("2026-12-07T00:00:00Z");
    var split = new Rollout(V2, Rollout.SPLIT_STRATEGY, 1, 0, Rollout.HealthGate.DEFAULT, Rollout.SPLIT, null, t, t, "", 50);
    var pool = new PoolEntity.PoolView(true, "p", V1.withReplicas(4), List.of(old("p-0"), old("p-1"), old("p-2"), old("p-3")), 4, split);
    var actions = plan(pool, Set.of("p-0", "p-1", "p-2", "p-3"));
    assertEquals(List.of(new ReplicaPlan.Place("p", "p-4", "n1", "cpu0", 100, 0, true), new ReplicaPlan.Place("p", "p-5", "n1", "cpu0", 100, 0, true)),
        actions, "half of four, beside the four old ones; none retired");
  }
}
