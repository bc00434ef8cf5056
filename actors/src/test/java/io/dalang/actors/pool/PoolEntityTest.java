package io.dalang.actors.pool;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import java.util.List;

import io.dalang.actors.testing.EntityTestKits;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class PoolEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final PoolSpec SPEC = new PoolSpec("m1", "/models/m1.gguf", "abc", "llama-inprocess", 2, 1024, 4, 2);
  private EventSourcedBehaviorTestKit<PoolEntity.Command, PoolEntity.Event, PoolEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), PoolEntity.create("p1"));
  }

  private StatusReply<PoolEntity.PoolView> create(PoolSpec spec) {
    return kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.CreatePool(spec, to)).reply();
  }

  @Test
  void createsAPoolAndRecoversItsSlotsAfterARestart() {
    assertTrue(create(SPEC).isSuccess());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0"), to));
    kit.restart();
    var view = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply();
    assertTrue(view.exists());
    assertEquals(SPEC, view.spec());
    assertEquals(1, view.slots().size());
    var slot = view.slotSpecs().get(0);
    assertEquals("p1-0", slot.slotId());
    assertEquals("p1", slot.poolId());
    assertEquals("m1", slot.modelId());
    assertEquals("n1", slot.nodeId());
    assertEquals(4, slot.parallel());
  }

  @Test
  void rejectsAnInvalidSpecWithAReasonAndPersistsNothing() {
    var bad = new PoolSpec("m1", "/m.gguf", "", "llama-inprocess", 1, 1024, 0, 2);
    var r = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.CreatePool(bad, to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.INVALID_REQUEST, r.reply());
    assertTrue(r.reply().getError().getMessage().contains("parallel"));
    assertTrue(r.events().isEmpty());
  }

  @Test
  void rejectsTheSameSlotTwice() {
    create(SPEC);
    var p = new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0");
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(p, to));
    var r = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(p, to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.CONFLICT, r.reply());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void changingTheEngineChangesEverySlotSpec() {
    create(SPEC);
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0"), to));
    var r = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetEngine("llama-server", to));
    assertEquals("llama-server", r.reply().getValue().slotSpecs().get(0).engine());
    var same = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetEngine("llama-server", to));
    assertTrue(same.events().isEmpty());
  }

  @Test
  void aRemovedSlotsIdIsNeverGivenOutAgain() {
    create(SPEC);
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0"), to));
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-1", "n2", "cpu0"), to));
    var r = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.RemoveSlot("p1-1", "node n2 left", to));
    assertEquals(List.of("p1-0"), r.reply().getValue().slots().stream().map(PoolEntity.SlotPlacement::slotId).toList());
    kit.restart();
    var view = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply();
    assertEquals("p1-2", view.nextSlotId(0));
    assertEquals("p1-3", view.nextSlotId(1));
    var again = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.RemoveSlot("p1-1", "node n2 left", to));
    assertTrue(again.reply().isSuccess());
    assertTrue(again.events().isEmpty(), "removing a slot that is not there changes nothing");
  }

  @Test
  void scalingChangesOnlyTheReplicaCountSurvivesARestartAndRejectsAnOutOfRangeCount() {
    var missing = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetReplicas(3, to));
    assertTrue(missing.reply().isError(), "no pool yet");
    assertRefused(ErrorCode.NOT_FOUND, missing.reply());
    create(SPEC);
    var r = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetReplicas(3, to));
    assertEquals(List.of(new PoolEntity.ReplicasSet(3)), r.events());
    assertEquals(SPEC.withReplicas(3), r.reply().getValue().spec());
    var same = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetReplicas(3, to));
    assertTrue(same.events().isEmpty());
    var bad = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetReplicas(-1, to));
    assertTrue(bad.reply().getError().getMessage().contains("replicas"), bad.reply().getError().getMessage());
    assertTrue(bad.events().isEmpty());
    kit.restart();
    assertEquals(3, kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply().spec().replicas());
  }

  private StatusReply<PoolEntity.PoolView> step(String from, String to) {
    return kit.<StatusReply<PoolEntity.PoolView>>runCommand(r -> new PoolEntity.StepRollout(from, to, "test", r)).reply();
  }

  @Test
  void aRolloutRunsNewReplicasOfItsVersionAndIsPromotedOnlyWhenTheOldOnesAreGone() {
    assertTrue(create(RolloutPlanTest.V1.withReplicas(1)).isSuccess());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0"), to));
    var rollout = RolloutPlanTest.rollout(Rollout.CANARY, Rollout.ROLLING_STRATEGY);
    var started = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.StartRollout(rollout, to));
    assertTrue(started.reply().isSuccess());
    assertRefused(ErrorCode.CONFLICT, kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.StartRollout(rollout, to)).reply());
    assertRefused(ErrorCode.CONFLICT, kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetEngine("llama-server", to)).reply());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-1", "n1", "cpu0", 0, true), to));
    var view = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply();
    assertEquals(List.of("m@v1", "m@v2"), view.slotSpecs().stream().map(s -> s.catalogRef()).toList(), "the new replica runs the new version");
    assertEquals("d2", view.slotSpecs().get(1).modelDigest());

    assertRefused(ErrorCode.CONFLICT, step(Rollout.ROLLING, Rollout.ROLLING_BACK)); // it is in canary, not rolling
    assertTrue(step(Rollout.CANARY, Rollout.ROLLING).isSuccess());
    assertRefused(ErrorCode.CONFLICT, kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.PromoteRollout("x", to)).reply());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.RemoveSlot("p1-0", "rolled", to));
    var promoted = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.PromoteRollout("all new", to));
    assertTrue(promoted.reply().isSuccess());
    kit.restart();
    view = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply();
    assertEquals("m@v2", view.spec().catalogRef());
    assertEquals(1, view.spec().replicas(), "the pool's replica count stays");
    assertEquals(Rollout.DONE, view.rollout().phase());
    assertTrue(view.slots().stream().noneMatch(PoolEntity.SlotPlacement::next), "every replica is current now");
    assertEquals("m@v2", view.slotSpecs().get(0).catalogRef());
  }

  @Test
  void aRollbackEndsOnlyOnceItsNewReplicasAreGoneAndAPauseResumesWhereItWas() {
    assertTrue(create(RolloutPlanTest.V1).isSuccess());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.StartRollout(RolloutPlanTest.rollout(Rollout.CANARY, Rollout.ROLLING_STRATEGY), to));
    assertTrue(step(Rollout.CANARY, Rollout.PAUSED).isSuccess());
    var paused = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply().rollout();
    assertEquals(Rollout.CANARY, paused.resumeTo());
    assertRefused(ErrorCode.CONFLICT, step(Rollout.PAUSED, Rollout.ROLLING));
    assertTrue(step(Rollout.PAUSED, Rollout.CANARY).isSuccess());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0", 0, true), to));
    assertTrue(step(Rollout.CANARY, Rollout.ROLLING_BACK).isSuccess());
    assertRefused(ErrorCode.CONFLICT, step(Rollout.ROLLING_BACK, Rollout.ROLLED_BACK));
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.RemoveSlot("p1-0", "rolled back", to));
    assertTrue(step(Rollout.ROLLING_BACK, Rollout.ROLLED_BACK).isSuccess());
    var view = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply();
    assertEquals("m@v1", view.spec().catalogRef());
    assertTrue(!view.rollingOut());
    // The same blob is no rollout.
    var same = new Rollout(RolloutPlanTest.V1, Rollout.ROLLING_STRATEGY, 1, 0, Rollout.HealthGate.DEFAULT, Rollout.CANARY, null,
        java.time.Instant.now(), java.time.Instant.now(), "");
    assertRefused(ErrorCode.INVALID_REQUEST, kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.StartRollout(same, to)).reply());
  }

  static final PoolSpec UPSTREAM = new PoolSpec("m1", "", null, PoolSpec.UPSTREAM_ENGINE, 2, 1024, 1024, 1, null, null, null,
      List.of(new io.dalang.engine.upstream.UpstreamEndpoint("vllm-a", "llama-3", 1024), new io.dalang.engine.upstream.UpstreamEndpoint("vllm-b", "llama-3", 32)),
      null);

  @Test
  void anUpstreamPoolKeepsItsServersAcrossARestartAndEachReplicaFrontsOne() {
    assertTrue(create(UPSTREAM).isSuccess());
    kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.AddSlot(new PoolEntity.SlotPlacement("p1-0", "n1", "cpu0", 0, false, "vllm-b"), to));
    kit.restart();
    var view = kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply();
    assertEquals(UPSTREAM, view.spec());
    var slot = view.slotSpecs().get(0);
    assertEquals("vllm-b", slot.upstream().provider());
    assertEquals(32, slot.parallel());
  }

  @Test
  void anUpstreamPoolHasOneReplicaPerServerAndKeepsItsEngine() {
    var wrongCount = UPSTREAM.withReplicas(3);
    assertRefused(ErrorCode.INVALID_REQUEST, create(wrongCount));
    assertTrue(create(UPSTREAM).isSuccess());
    var scale = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetReplicas(1, to));
    assertRefused(ErrorCode.INVALID_REQUEST, scale.reply());
    var engine = kit.<StatusReply<PoolEntity.PoolView>>runCommand(to -> new PoolEntity.SetEngine("llama-server", to));
    assertRefused(ErrorCode.INVALID_REQUEST, engine.reply());
    assertTrue(engine.events().isEmpty());
  }

  @Test
  void aSimulatedPoolNeedsAValidProfileAndNoModelFile() {
    var bad = new PoolSpec("m1", "", null, PoolSpec.SIMULATED_ENGINE, 1, 1024, 8, 1, null, null, null, null,
        new io.dalang.engine.sim.SimProfile(10, 1, 0, 1.5, 0, 0, 8));
    var r = create(bad);
    assertRefused(ErrorCode.INVALID_REQUEST, r);
    assertTrue(r.getError().getMessage().contains("error_rate"), r.getError().getMessage());
    var ok = new PoolSpec("m1", "", null, PoolSpec.SIMULATED_ENGINE, 1, 1024, 4096, 1, null, null, null, null,
        new io.dalang.engine.sim.SimProfile(20, 5, 0, 0, 0, 0, 4096)); // more sequences than a llama.cpp slot may have
    assertTrue(create(ok).isSuccess());
    kit.restart();
    assertEquals(ok, kit.<PoolEntity.PoolView>runCommand(PoolEntity.GetPool::new).reply().spec());
  }
}
