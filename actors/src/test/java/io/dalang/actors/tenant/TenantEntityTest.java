package io.dalang.actors.tenant;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class TenantEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  private EventSourcedBehaviorTestKit<TenantEntity.Command, TenantEntity.Event, TenantEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = EventSourcedBehaviorTestKit.create(testKit.system(), TenantEntity.create("acme"));
  }

  @Test
  void createsATenantAndRecoversItAfterARestart() {
    var r = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Acme", List.of("p1"), to));
    assertTrue(r.reply().isSuccess());
    assertEquals(List.of("p1"), r.reply().getValue().pools());
    assertInstanceOf(TenantEntity.TenantCreated.class, r.event());
    kit.restart();
    var after = kit.<TenantEntity.TenantView>runCommand(TenantEntity.GetTenant::new).reply();
    assertTrue(after.exists());
    assertEquals("Acme", after.displayName());
    assertEquals(List.of("p1"), after.pools());
  }

  @Test
  void rejectsASecondCreateAndPersistsNothing() {
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Acme", List.of(), to));
    var r = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Other", List.of(), to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.CONFLICT, r.reply());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void rejectsABlankDisplayName() {
    var r = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant(" ", List.of(), to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.INVALID_REQUEST, r.reply());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void grantsAPoolOnceAndIgnoresARepeat() {
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Acme", List.of("p1"), to));
    var r = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.GrantPool("p2", to));
    assertEquals(List.of("p1", "p2"), r.reply().getValue().pools());
    assertEquals(1, r.events().size());
    var again = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.GrantPool("p2", to));
    assertTrue(again.events().isEmpty());
  }

  @Test
  void anUnknownTenantDoesNotExistAndCannotBeGrantedPools() {
    assertFalse(kit.<TenantEntity.TenantView>runCommand(TenantEntity.GetTenant::new).reply().exists());
    assertTrue(kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.GrantPool("p", to)).reply().isError());
    assertRefused(ErrorCode.NOT_FOUND, kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.GrantPool("p", to)).reply());
  }

  @Test
  void listsKeysWithRolesRevokesThemAndKeepsQuotasAcrossARestart() {
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Acme", List.of("p1"), to));
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.RegisterKey("k1", "hash1", "tenant-admin", to));
    var dup = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.RegisterKey("k1", "hash2", "tenant-user", to));
    assertTrue(dup.reply().isError(), "a key id is unique within the tenant");
    assertRefused(ErrorCode.CONFLICT, dup.reply());
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.MarkKeyRevoked("k1", to));
    var quotas = new TenantEntity.Quotas(60, 100_000, 4, 8);
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.SetQuotas(quotas, to));
    kit.restart();
    var v = kit.<TenantEntity.TenantView>runCommand(TenantEntity.GetTenant::new).reply();
    var k1 = v.key("k1").orElseThrow();
    assertEquals("tenant-admin", k1.role());
    assertFalse(k1.active());
    assertTrue(k1.revokedAt() != null);
    assertEquals(quotas, v.quotas());
    assertTrue(kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.MarkKeyRevoked("nope", to)).reply().isError());
    assertRefused(ErrorCode.NOT_FOUND, kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.MarkKeyRevoked("nope", to)).reply());
  }

  @Test
  void aRefusalKeepsItsCodeAcrossTheWire() {
    var reply = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.GrantPool("p", to)).reply();
    var serialization = SerializationExtension.get(testKit.system());
    var serializer = serialization.findSerializerFor(reply);
    var back = (StatusReply<?>) serialization.deserialize(serialization.serialize(reply).get(), serializer.identifier(),
        Serializers.manifestFor(serializer, reply)).get();
    assertRefused(ErrorCode.NOT_FOUND, back);
    assertEquals("no tenant acme", Refusal.parse(back.getError().getMessage(), ErrorCode.CONFLICT).message());
  }

  @Test
  void aTenantsFallbacksNameOnlyGrantedProvidersAndARevokeTakesThemOut() {
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Acme", List.of("p1"), to));
    var provider = io.dalang.actors.fallback.FallbackTarget.provider("costly", "m");
    var pool = io.dalang.actors.fallback.FallbackTarget.pool("p1");
    var refused = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.SetFallbacks(List.of(pool, provider), to));
    assertRefused(ErrorCode.INVALID_REQUEST, refused.reply());
    assertTrue(refused.events().isEmpty());

    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.GrantProvider("costly", to));
    assertTrue(kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.SetFallbacks(List.of(pool, provider), to))
        .reply().isSuccess());
    kit.restart();
    var granted = kit.<TenantEntity.TenantView>runCommand(TenantEntity.GetTenant::new).reply();
    assertEquals(List.of("costly"), granted.providers());
    assertEquals(2, granted.fallbacks().size());

    var revoked = kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.RevokeProvider("costly", to)).reply();
    assertEquals(List.of(pool), revoked.getValue().fallbacks(), "the provider left the fallback list; the pool target stayed");
    assertEquals(List.of(), revoked.getValue().providers());
    assertRefused(ErrorCode.NOT_FOUND, kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.RevokeProvider("costly", to)).reply());
  }

  @Test
  void aTenantFromBeforeGrantsKeepsTheProvidersItsFallbacksNamed() {
    var old = new TenantEntity.Active("acme", "Acme", java.util.Set.of("p1"), java.time.Instant.EPOCH, List.of(), TenantEntity.Quotas.NONE,
        List.of(io.dalang.actors.fallback.FallbackTarget.provider("legacy", "m"), io.dalang.actors.fallback.FallbackTarget.pool("p1")), null);
    assertEquals(java.util.Set.of("legacy"), old.providerSet());
    assertEquals(List.of("legacy"), old.view().providers());
    // A new tenant starts with none.
    kit.<StatusReply<TenantEntity.TenantView>>runCommand(to -> new TenantEntity.CreateTenant("Acme", List.of(), to));
    assertEquals(List.of(), kit.<TenantEntity.TenantView>runCommand(TenantEntity.GetTenant::new).reply().providers());
  }
}
