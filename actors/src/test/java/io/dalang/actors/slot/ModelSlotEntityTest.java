package io.dalang.actors.slot;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class ModelSlotEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final SlotSpec SPEC = new SlotSpec("p-0", "p", "m", "/m.gguf", "abc", "llama-server", "n1", "cpu0", 512, 4, 2);
  static final ModelSlotEntity.EngineRecord ENGINE =
      new ModelSlotEntity.EngineRecord("llama-server", "0.5.0 (de3ff81)", "d2ac", "abc", "cpu0", 4);
  private EventSourcedBehaviorTestKit<ModelSlotEntity.Command, ModelSlotEntity.Event, ModelSlotEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ModelSlotEntity.create("p-0"));
  }

  private StatusReply<ModelSlotEntity.SlotView> provision() {
    return kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.Provision(SPEC, to)).reply();
  }

  private StatusReply<ModelSlotEntity.SlotView> loading(int attempt) {
    return kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.BeginLoading(SPEC, attempt, to)).reply();
  }

  private StatusReply<ModelSlotEntity.SlotView> ready() {
    return kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkReady(ENGINE, to)).reply();
  }

  private String state() {
    return kit.<ModelSlotEntity.SlotView>runCommand(ModelSlotEntity.GetSlot::new).reply().state();
  }

  @Test
  void walksTheWholeLifecycleAndRecoversEachStep() {
    assertEquals("Provisioning", provision().getValue().state());
    assertEquals("Loading", loading(1).getValue().state());
    var r = ready().getValue();
    assertEquals("Ready", r.state());
    assertEquals(ENGINE, r.engine());
    kit.restart();
    assertEquals("Ready", state());
    assertEquals(ENGINE, kit.<ModelSlotEntity.SlotView>runCommand(ModelSlotEntity.GetSlot::new).reply().engine());
    assertEquals("Draining", kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(ModelSlotEntity.Drain::new).reply().getValue().state());
    assertEquals("Stopped", kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(ModelSlotEntity.MarkStopped::new).reply().getValue().state());
    kit.restart();
    assertEquals("Stopped", state());
  }

  @Test
  void cannotBecomeReadyWithoutLoadingFirst() {
    provision();
    var r = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkReady(ENGINE, to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.CONFLICT, r.reply());
    assertTrue(r.events().isEmpty());
    assertEquals("Provisioning", state());
  }

  @Test
  void aFailedEngineGoesBackToLoadingOnRestartThenReady() {
    provision();
    loading(1);
    ready();
    var failed = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkFailed("engine died", to)).reply();
    assertEquals("Failed", failed.getValue().state());
    assertEquals("engine died", failed.getValue().detail());
    assertEquals("Loading", loading(2).getValue().state());
    assertEquals("Ready", ready().getValue().state());
  }

  @Test
  void aDrainingSlotDoesNotLoadAgainAndAStoppedOneDoesNotFail() {
    provision();
    loading(1);
    ready();
    kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(ModelSlotEntity.Drain::new);
    assertTrue(loading(2).isError());
    kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(ModelSlotEntity.MarkStopped::new);
    assertTrue(kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkFailed("x", to)).reply().isError());
  }

  @Test
  void loadReportsChangeTheViewButAreNotJournaled() {
    provision();
    loading(1);
    ready();
    var r = kit.runCommand(new ModelSlotEntity.ReportLoad(3));
    assertTrue(r.events().isEmpty());
    assertEquals(3, kit.<ModelSlotEntity.SlotView>runCommand(ModelSlotEntity.GetSlot::new).reply().slotsFree());
  }

  @Test
  void provisioningAgainWithTheSameSpecIsIdempotentAndWithAnotherIsRefused() {
    provision();
    var same = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.Provision(SPEC, to));
    assertTrue(same.reply().isSuccess());
    assertTrue(same.events().isEmpty());
    var other = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.Provision(SPEC.withEngine("x"), to));
    assertTrue(other.reply().isError());
    assertRefused(ErrorCode.CONFLICT, other.reply());
  }

  @Test
  void aLostSlotStaysLostWhateverItsOldEngineStillReports() {
    provision();
    loading(1);
    ready();
    var lost = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkLost("node n1 left the cluster", to));
    assertEquals("Lost", lost.reply().getValue().state());
    assertEquals("node n1 left the cluster", lost.reply().getValue().detail());
    kit.restart();
    assertTrue(loading(2).isError());
    assertTrue(ready().isError());
    assertTrue(kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkFailed("x", to)).reply().isError());
    var again = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkLost("again", to));
    assertTrue(again.reply().isSuccess());
    assertTrue(again.events().isEmpty());
    assertEquals("Lost", state());
  }

  @Test
  void anUnprovisionedSlotCannotBeLost() {
    var r = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkLost("node gone", to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.CONFLICT, r.reply());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void aSlotDrainedBeforeItsNodeLeftStaysStopped() {
    provision();
    loading(1);
    ready();
    kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(ModelSlotEntity.Drain::new);
    kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(ModelSlotEntity.MarkStopped::new);
    var r = kit.<StatusReply<ModelSlotEntity.SlotView>>runCommand(to -> new ModelSlotEntity.MarkLost("node n1 left the cluster", to));
    assertTrue(r.reply().isSuccess());
    assertTrue(r.events().isEmpty());
    assertEquals("Stopped", state());
  }
}
