package io.dalang.actors.provider;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class ProviderEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final ProviderSpec SPEC = new ProviderSpec("https://api.example.com/v1", List.of("gpt-x"), 1, "https://api.example.com:443",
      0.5, 1.5, false);
  private EventSourcedBehaviorTestKit<ProviderEntity.Command, ProviderEntity.Event, ProviderEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), ProviderEntity.create("backup"));
  }

  private StatusReply<ProviderEntity.ProviderView> create(ProviderSpec spec) {
    return kit.<StatusReply<ProviderEntity.ProviderView>>runCommand(to -> new ProviderEntity.CreateProvider(spec, to)).reply();
  }

  @Test
  void createsUpdatesAndRecoversAProvider() {
    assertTrue(create(SPEC).isSuccess());
    var moved = new ProviderSpec("https://api.example.com/v2", List.of("gpt-x", "gpt-y"), 2, "https://api.example.com:443", 0.5, 1.5, false);
    var r = kit.<StatusReply<ProviderEntity.ProviderView>>runCommand(to -> new ProviderEntity.UpdateProvider(moved, to));
    assertTrue(r.reply().isSuccess());
    assertTrue(r.event() instanceof ProviderEntity.ProviderUpdated);
    kit.restart();
    var view = kit.<ProviderEntity.ProviderView>runCommand(ProviderEntity.GetProvider::new).reply();
    assertTrue(view.exists());
    assertEquals(moved, view.spec());
    assertEquals("backup", view.name());
  }

  @Test
  void aKeyIsBoundToTheOriginItWasGivenFor() {
    var elsewhere = new ProviderSpec("https://evil.example.net/v1", List.of("gpt-x"), 1, "https://api.example.com:443", 0, 0, false);
    var r = kit.<StatusReply<ProviderEntity.ProviderView>>runCommand(to -> new ProviderEntity.CreateProvider(elsewhere, to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.INVALID_REQUEST, r.reply());
    assertTrue(r.reply().getError().getMessage().contains("key"), r.reply().getError().getMessage());
    assertTrue(r.events().isEmpty());
    assertFalse(elsewhere.keyBoundHere());
    assertTrue(SPEC.keyBoundHere());
  }

  @Test
  void rejectsAFragmentUrlAndPersistsNothing() {
    var r = kit.<StatusReply<ProviderEntity.ProviderView>>runCommand(to -> new ProviderEntity.CreateProvider(
        new ProviderSpec("https://api.example.com/v1#/admin", List.of("m"), 0, null, 0, 0, false), to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.INVALID_REQUEST, r.reply());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void aDeletedProviderIsGoneAndItsNameFree() {
    assertTrue(create(SPEC).isSuccess());
    assertTrue(create(SPEC).isError(), "a second create is refused");
    assertRefused(ErrorCode.CONFLICT, create(SPEC));
    var d = kit.<StatusReply<ProviderEntity.ProviderView>>runCommand(ProviderEntity.DeleteProvider::new);
    assertTrue(d.reply().isSuccess());
    assertFalse(kit.<ProviderEntity.ProviderView>runCommand(ProviderEntity.GetProvider::new).reply().exists());
    kit.restart();
    assertFalse(kit.<ProviderEntity.ProviderView>runCommand(ProviderEntity.GetProvider::new).reply().exists());
    assertTrue(create(SPEC).isSuccess());
  }
}
