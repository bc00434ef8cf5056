package io.dalang.actors.executor;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.slot.SlotSpec;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.node.Device;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class ExecutorEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final List<Device> DEVICES = List.of(new Device("cpu0", Device.CPU, 0, "2 cores", 4096, 2048, ""));
  static final SlotSpec SLOT = new SlotSpec("p-0", "p", "m", "/m.gguf", "abc", "llama-inprocess", "n1", "cpu0", 512, 2, 2);
  private EventSourcedBehaviorTestKit<ExecutorEntity.Command, ExecutorEntity.Event, ExecutorEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ExecutorEntity.create("n1"));
  }

  private StatusReply<ExecutorEntity.ExecutorView> register() {
    return kit.<StatusReply<ExecutorEntity.ExecutorView>>runCommand(to -> new ExecutorEntity.RegisterExecutor("pekko://dalang@h:1", DEVICES, to)).reply();
  }

  private StatusReply<ExecutorEntity.ExecutorView> assign(SlotSpec s) {
    return kit.<StatusReply<ExecutorEntity.ExecutorView>>runCommand(to -> new ExecutorEntity.AssignSlot(s, to)).reply();
  }

  @Test
  void aNodeThatNeverRegisteredGetsNoSlots() {
    assertTrue(assign(SLOT).isError());
    assertRefused(ErrorCode.NOT_FOUND, assign(SLOT));
    assertFalse(kit.<ExecutorEntity.ExecutorView>runCommand(ExecutorEntity.GetExecutor::new).reply().registered());
  }

  @Test
  void keepsItsAssignedSlotsAcrossReRegistrationAndRestart() {
    assertTrue(register().isSuccess());
    assertTrue(assign(SLOT).isSuccess());
    kit.restart();
    var again = register().getValue();
    assertEquals(2, again.registrations());
    assertEquals(List.of(SLOT), again.slots());
    assertEquals(DEVICES, again.devices());
  }

  @Test
  void rejectsASlotOnADeviceTheNodeDoesNotHave() {
    register();
    var r = kit.<StatusReply<ExecutorEntity.ExecutorView>>runCommand(to -> new ExecutorEntity.AssignSlot(
        new SlotSpec("p-1", "p", "m", "/m.gguf", "abc", "llama-inprocess", "n1", "gpu7", 512, 2, 2), to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.NOT_FOUND, r.reply());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void reassigningTheSameSpecPersistsNothingAndAChangedSpecReplacesIt() {
    register();
    assign(SLOT);
    var same = kit.<StatusReply<ExecutorEntity.ExecutorView>>runCommand(to -> new ExecutorEntity.AssignSlot(SLOT, to));
    assertTrue(same.events().isEmpty());
    var changed = assign(SLOT.withEngine("llama-server")).getValue();
    assertEquals(List.of(SLOT.withEngine("llama-server")), changed.slots());
  }

  @Test
  void persistsOnlyHealthChanges() {
    register();
    assertTrue(kit.runCommand(new ExecutorEntity.ReportHealth(true, "ok")).events().isEmpty());
    assertEquals(1, kit.runCommand(new ExecutorEntity.ReportHealth(false, "engine down")).events().size());
    assertEquals("engine down", kit.<ExecutorEntity.ExecutorView>runCommand(ExecutorEntity.GetExecutor::new).reply().healthDetail());
  }

  @Test
  void unassigningASlotForgetsItAcrossRestartAndIsIdempotent() {
    register();
    assign(SLOT);
    var r = kit.<StatusReply<ExecutorEntity.ExecutorView>>runCommand(to -> new ExecutorEntity.UnassignSlot(SLOT.slotId(), to));
    assertEquals(List.of(), r.reply().getValue().slots());
    kit.restart();
    assertEquals(List.of(), register().getValue().slots());
    var again = kit.<StatusReply<ExecutorEntity.ExecutorView>>runCommand(to -> new ExecutorEntity.UnassignSlot(SLOT.slotId(), to));
    assertTrue(again.reply().isSuccess());
    assertTrue(again.events().isEmpty());
  }

  @Test
  void persistsADeviceReadingOnlyWhenMemoryMovedOrTheLoadedSlotsChangedAndKeepsItAcrossRestart() {
    register();
    Device d = DEVICES.get(0);
    var same = kit.runCommand(new ExecutorEntity.ReportDevices(List.of(d.withFreeMib(d.memoryFreeMib() - 10)), java.util.Set.of()));
    assertTrue(same.events().isEmpty(), "10 MiB is noise");
    var moved = kit.runCommand(new ExecutorEntity.ReportDevices(List.of(d.withFreeMib(d.memoryFreeMib() - 500)), java.util.Set.of()));
    assertEquals(1, moved.events().size());
    var loaded = kit.runCommand(new ExecutorEntity.ReportDevices(List.of(d.withFreeMib(d.memoryFreeMib() - 500)), java.util.Set.of("p-1")));
    assertEquals(1, loaded.events().size(), "a slot that loaded changes what the reading counts");
    kit.restart();
    var view = kit.<ExecutorEntity.ExecutorView>runCommand(ExecutorEntity.GetExecutor::new).reply();
    assertEquals(d.memoryFreeMib() - 500, view.devices().get(0).memoryFreeMib());
    assertEquals(java.util.Set.of("p-1"), view.loadedSlots());
    // A new registration (the node restarted) starts from its own probe, with nothing loaded.
    var again = register().getValue();
    assertEquals(DEVICES, again.devices());
    assertTrue(again.loadedSlots().isEmpty());
  }
}
