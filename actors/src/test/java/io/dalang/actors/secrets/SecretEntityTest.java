package io.dalang.actors.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.secrets.SecretAccess.Action;
import io.dalang.actors.secrets.SecretAccess.Outcome;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.actors.audit.AuditAction;
import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditEntry;
import io.dalang.actors.audit.AuditFilter;
import io.dalang.actors.audit.AuditGate;
import io.dalang.actors.audit.AuditSettings;
import io.dalang.actors.audit.AuditStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LogCapturingExtension.class)
class SecretEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final String TENANT = "acme";
  static final String VALUE = "sk-entity-test-plaintext-7f3a9c";

  final MasterKey key = MasterKey.generate();
  final List<SecretAccess> audits = new CopyOnWriteArrayList<>();
  EventSourcedBehaviorTestKit<SecretEntity.Command, SecretEntity.Event, SecretEntity.State> kit;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    kit = kit(MasterKeys.of(key), audits::add);
    kit.clear();
  }

  /** A kit for the same tenant; creating one clears the journal, so give it its past with {@code initialize}. */
  EventSourcedBehaviorTestKit<SecretEntity.Command, SecretEntity.Event, SecretEntity.State> kit(MasterKeys keys, Consumer<SecretAccess> audit) {
    return EventSourcedBehaviorTestKit.create(testKit.system(), SecretEntity.create(TENANT, keys, audit));
  }

  static EventSourcedBehaviorTestKit.CommandResultWithReply<SecretEntity.Command, SecretEntity.Event, SecretEntity.State, SecretEntity.PutReply> put(
      EventSourcedBehaviorTestKit<SecretEntity.Command, SecretEntity.Event, SecretEntity.State> kit, MasterKeys keys, String ns, String name, String value) {
    var sealed = SecretCipher.seal(keys.current(), SecretId.inTransit(TENANT, ns, name), value.getBytes(StandardCharsets.UTF_8));
    return kit.runCommand(r -> new SecretEntity.Put(ns, name, sealed, "key:admin", r));
  }

  SecretEntity.PutReply put(String ns, String name, String value) {
    return put(kit, MasterKeys.of(key), ns, name, value).reply();
  }

  static SecretEntity.GetReply get(EventSourcedBehaviorTestKit<SecretEntity.Command, SecretEntity.Event, SecretEntity.State> kit,
      String ns, String name, int version) {
    return kit.<SecretEntity.GetReply>runCommand(r -> new SecretEntity.Get(ns, name, version, "system:router", r)).reply();
  }

  static String open(MasterKeys keys, SecretEntity.GetReply reply) {
    assertNull(reply.error(), () -> String.valueOf(reply.error()));
    return new String(SecretCipher.open(keys, reply.secret().id(), reply.secret().sealed()), StandardCharsets.UTF_8);
  }

  @Test
  void storesVersionsAndReadsTheLatestOrAnyAfterARestart() {
    var v1 = put("providers", "openai", VALUE);
    assertNull(v1.error());
    assertEquals(1, v1.version().version());
    assertEquals(key.id(), v1.version().keyId());
    assertEquals(2, put("providers", "openai", VALUE + "-rotated").version().version());
    kit.restart();
    var keys = MasterKeys.of(key);
    assertEquals(VALUE + "-rotated", open(keys, get(kit, "providers", "openai", 0)));
    assertEquals(VALUE, open(keys, get(kit, "providers", "openai", 1)));
    assertEquals(2, get(kit, "providers", "openai", 0).secret().version());
  }

  @Test
  void eventsCarryCiphertextOnlyBoundToTheNewVersion() {
    var result = put(kit, MasterKeys.of(key), "providers", "openai", VALUE);
    var event = assertInstanceOf(SecretEntity.SecretPut.class, result.event());
    assertEquals(1, event.version());
    assertEquals(key.id(), event.sealed().keyId());
    assertEquals(VALUE, new String(SecretCipher.open(MasterKeys.of(key), new SecretId(TENANT, "providers", "openai", 1), event.sealed()),
        StandardCharsets.UTF_8));
  }

  @Test
  void noSerializedCommandEventStateOrReplyContainsTheValue() {
    var keys = MasterKeys.of(key);
    var written = new ArrayList<Object>();
    var putResult = put(kit, keys, "providers", "openai", VALUE);
    written.add(putResult.command());
    written.addAll(putResult.events());
    written.add(putResult.reply());
    written.add(get(kit, "providers", "openai", 0));
    written.add(kit.<SecretEntity.SecretList>runCommand(r -> new SecretEntity.ListSecrets("", "key:admin", r)).reply());
    var rotating = kit(MasterKeys.of(MasterKey.generate(), key), a -> { });
    rotating.initialize(putResult.events().toArray());
    var rotation = rotating.<SecretEntity.RotationReport>runCommand(r -> new SecretEntity.RotateMasterKey("key:admin", r));
    assertEquals(1, rotation.reply().rewrapped());
    written.add(rotation.reply());
    written.addAll(rotation.events());
    written.add(rotating.getState());
    var serialization = SerializationExtension.get(testKit.system().classicSystem());
    byte[] plain = VALUE.getBytes(StandardCharsets.UTF_8);
    for (Object o : written) {
      byte[] bytes = serialization.serialize(o).get();
      assertTrue(serialization.findSerializerFor(o).getClass().getSimpleName().contains("Jackson"), o.getClass().getName());
      assertFalse(contains(bytes, plain), o.getClass().getSimpleName() + " carries the value in clear");
      assertFalse(contains(bytes, "sk-entity".getBytes(StandardCharsets.UTF_8)), o.getClass().getSimpleName());
    }
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) continue outer;
      }
      return true;
    }
    return false;
  }

  @Test
  void everyCommandIsAuditedWithoutTheValue() {
    put("providers", "openai", VALUE);
    get(kit, "providers", "openai", 0);
    get(kit, "providers", "missing", 0);
    kit.<SecretEntity.SecretList>runCommand(r -> new SecretEntity.ListSecrets("", "key:admin", r));
    kit.<SecretEntity.DeleteReply>runCommand(r -> new SecretEntity.Delete("providers", "openai", "key:admin", r));
    kit.<SecretEntity.RotationReport>runCommand(r -> new SecretEntity.RotateMasterKey("key:admin", r));
    assertEquals(List.of(Action.PUT, Action.GET, Action.GET, Action.LIST, Action.DELETE, Action.ROTATE),
        audits.stream().map(SecretAccess::action).toList());
    assertEquals(List.of(Outcome.OK, Outcome.OK, Outcome.NOT_FOUND, Outcome.OK, Outcome.OK, Outcome.OK),
        audits.stream().map(SecretAccess::outcome).toList());
    var read = audits.get(1);
    assertEquals(List.of(TENANT, "providers", "openai", 1, "system:router"),
        List.of(read.tenant(), read.namespace(), read.name(), read.version(), read.actor()));
    assertFalse(audits.toString().contains(VALUE));
  }

  @Test
  void aReadThatCannotBeAuditedIsNotServed() {
    var events = put(kit, MasterKeys.of(key), "providers", "openai", VALUE).events();
    var failing = kit(MasterKeys.of(key), a -> {
      if (a.action() == Action.GET) throw new IllegalStateException("ledger down");
    });
    failing.initialize(events.toArray());
    var reply = get(failing, "providers", "openai", 0);
    assertNull(reply.secret());
    assertEquals(ErrorCode.INTERNAL, reply.error().code());
  }

  @Test
  void aReadIsAnsweredOnlyOnceItIsStoredInTheLedgerAndRefusedWhenTheLedgerIsFull(@TempDir Path dir) throws Exception {
    var store = new AuditStore("jdbc:h2:file:" + dir.resolve("audit"), "dalang", "");
    var ledger = testKit.spawn(AuditActor.create(store, AuditSettings.keepForever(4).withMaxPending(1), Clock.systemUTC()));
    var gate = new AuditGate(ledger, testKit.system().scheduler(), Duration.ofSeconds(5));
    var events = put(kit, MasterKeys.of(key), "providers", "openai", VALUE).events();
    var gated = EventSourcedBehaviorTestKit.<SecretEntity.Command, SecretEntity.Event, SecretEntity.State>create(testKit.system(), SecretEntity.create(TENANT, MasterKeys.of(key), audits::add,
        read -> gate.recordDurably(AuditEntry.ok(read.tenant(), read.actor(), AuditAction.SECRET_READ, read.namespace() + "/" + read.name()))));
    gated.initialize(events.toArray());

    assertTrue(get(gated, "providers", "openai", 0).secret() != null);
    assertEquals(1, store.query(AuditFilter.ALL.action(AuditAction.SECRET_READ)).size(), "stored before the ciphertext was handed out");
    assertFalse(audits.stream().anyMatch(a -> a.action() == Action.GET), "the durable read is the only record of it");

    try (var db = DriverManager.getConnection(store.url(), "dalang", ""); var sql = db.createStatement()) {
      sql.execute("ALTER TABLE dalang_audit_event ADD CONSTRAINT audit_held CHECK (seq < 0) NOCHECK");
      ledger.tell(new AuditActor.Record(AuditEntry.ok(TENANT, "key:admin", "secret.list", "")));
      var refused = get(gated, "providers", "openai", 0);
      assertNull(refused.secret(), "nothing is handed out unaudited");
      assertEquals(ErrorCode.AUDIT_UNAVAILABLE, refused.error().code());
      sql.execute("ALTER TABLE dalang_audit_event DROP CONSTRAINT audit_held");
    }
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
      assertEquals(1, store.query(AuditFilter.ALL.action("secret.list")).size(), "the writer caught up");
      return null;
    });
    assertTrue(get(gated, "providers", "openai", 0).secret() != null);
    assertEquals(2, store.query(AuditFilter.ALL.action(AuditAction.SECRET_READ)).size(), "the refused read was not recorded, the later one was");
  }

  @Test
  void rejectsInvalidNamesAndPersistsNothing() {
    for (String[] bad : new String[][] {{"Providers", "openai"}, {"providers", ""}, {"providers", "a/b"}, {"-x", "y"},
        {"providers", "x".repeat(64)}}) {
      var r = put(kit, MasterKeys.of(key), bad[0], bad[1], VALUE);
      assertEquals(ErrorCode.INVALID_REQUEST, r.reply().error().code(), String.join("/", bad));
      assertTrue(r.events().isEmpty());
    }
    var noActor = kit.<SecretEntity.GetReply>runCommand(r -> new SecretEntity.Get("providers", "openai", 0, " ", r));
    assertEquals(ErrorCode.INVALID_REQUEST, noActor.reply().error().code());
    var negative = kit.<SecretEntity.GetReply>runCommand(r -> new SecretEntity.Get("providers", "openai", -1, "a", r));
    assertEquals(ErrorCode.INVALID_REQUEST, negative.reply().error().code());
    assertTrue(audits.stream().allMatch(a -> a.outcome() == Outcome.REJECTED));
  }

  @Test
  void aValueSealedForAnotherSecretIsRefused() {
    var sealed = SecretCipher.seal(key, SecretId.inTransit(TENANT, "providers", "anthropic"), VALUE.getBytes(StandardCharsets.UTF_8));
    var r = kit.<SecretEntity.PutReply>runCommand(to -> new SecretEntity.Put("providers", "openai", sealed, "key:admin", to));
    assertEquals(ErrorCode.INTERNAL, r.reply().error().code());
    assertFalse(r.reply().error().message().contains(VALUE));
    assertTrue(r.events().isEmpty());
    assertEquals(Outcome.FAILED, audits.get(0).outcome());
  }

  @Test
  void unknownSecretsAndVersionsAreNotFound() {
    assertEquals(ErrorCode.NOT_FOUND, get(kit, "providers", "openai", 0).error().code());
    put("providers", "openai", VALUE);
    assertEquals(ErrorCode.NOT_FOUND, get(kit, "providers", "openai", 2).error().code());
    var del = kit.<SecretEntity.DeleteReply>runCommand(r -> new SecretEntity.Delete("providers", "nope", "key:admin", r));
    assertEquals(ErrorCode.NOT_FOUND, del.reply().error().code());
    assertTrue(del.events().isEmpty());
  }

  @Test
  void listsNamesVersionsAndTimesNeverValues() {
    put("providers", "openai", VALUE);
    put("providers", "openai", VALUE + "2");
    put("providers", "anthropic", VALUE);
    put("webhooks", "slack", VALUE);
    var all = kit.<SecretEntity.SecretList>runCommand(r -> new SecretEntity.ListSecrets("", "key:admin", r)).reply().secrets();
    assertEquals(List.of("providers/anthropic", "providers/openai", "webhooks/slack"), all.stream().map(i -> i.namespace() + "/" + i.name()).toList());
    assertEquals(List.of(1, 2), all.get(1).versions().stream().map(SecretEntity.VersionInfo::version).toList());
    var one = kit.<SecretEntity.SecretList>runCommand(r -> new SecretEntity.ListSecrets("webhooks", "key:admin", r)).reply().secrets();
    assertEquals(1, one.size());
    assertFalse(all.toString().contains(VALUE));
    var bad = kit.<SecretEntity.SecretList>runCommand(r -> new SecretEntity.ListSecrets("Bad NS", "key:admin", r)).reply();
    assertEquals(ErrorCode.INVALID_REQUEST, bad.error().code());
  }

  @Test
  void deleteRemovesEveryVersionAndNumbersAreNotReused() {
    put("providers", "openai", VALUE);
    put("providers", "openai", VALUE);
    var del = kit.<SecretEntity.DeleteReply>runCommand(r -> new SecretEntity.Delete("providers", "openai", "key:admin", r));
    assertEquals(2, del.reply().versionsDeleted());
    kit.restart();
    assertEquals(ErrorCode.NOT_FOUND, get(kit, "providers", "openai", 1).error().code());
    assertTrue(kit.<SecretEntity.SecretList>runCommand(r -> new SecretEntity.ListSecrets("", "a", r)).reply().secrets().isEmpty());
    assertEquals(3, put("providers", "openai", VALUE).version().version());
  }

  @Test
  void rotationReEncryptsUnderTheNewKeyAfterWhichTheOldKeyCanBeDropped() {
    var oldKeys = MasterKeys.of(key);
    var events = new ArrayList<SecretEntity.Event>();
    events.addAll(put(kit, oldKeys, "providers", "openai", VALUE).events());
    events.addAll(put(kit, oldKeys, "providers", "openai", VALUE + "-v2").events());
    events.addAll(put(kit, oldKeys, "webhooks", "slack", "xoxb-webhook-value").events());

    var newKey = MasterKey.generate();
    var during = MasterKeys.of(newKey, key);
    var rotating = kit(during, audits::add);
    rotating.initialize(events.toArray());
    events.addAll(put(rotating, during, "providers", "anthropic", "written-during-rotation").events());
    assertEquals(newKey.id(), rotating.getState() instanceof SecretEntity.Vault v
        ? v.entry("providers", "anthropic").versions().get(0).sealed().keyId() : null);
    var rotated = rotating.<SecretEntity.RotationReport>runCommand(r -> new SecretEntity.RotateMasterKey("key:admin", r));
    assertNull(rotated.reply().error());
    assertEquals(3, rotated.reply().rewrapped());
    assertEquals(1, rotated.reply().alreadyCurrent());
    assertEquals(newKey.id(), rotated.reply().keyId());
    assertTrue(rotated.events().stream().allMatch(e -> e instanceof SecretEntity.Rewrapped));
    events.addAll(rotated.events());

    var again = rotating.<SecretEntity.RotationReport>runCommand(r -> new SecretEntity.RotateMasterKey("key:admin", r));
    assertEquals(0, again.reply().rewrapped());
    assertTrue(again.events().isEmpty());

    var onlyNew = MasterKeys.of(newKey);
    var after = kit(onlyNew, audits::add);
    after.initialize(events.toArray());
    assertEquals(VALUE + "-v2", open(onlyNew, get(after, "providers", "openai", 0)));
    assertEquals(VALUE, open(onlyNew, get(after, "providers", "openai", 1)));
    assertEquals("xoxb-webhook-value", open(onlyNew, get(after, "webhooks", "slack", 0)));
    assertEquals("written-during-rotation", open(onlyNew, get(after, "providers", "anthropic", 0)));
  }

  @Test
  void rotationWithoutTheOldKeyChangesNothingAndSaysWhich() {
    var events = put(kit, MasterKeys.of(key), "providers", "openai", VALUE).events();
    var lost = kit(MasterKeys.of(MasterKey.generate()), audits::add);
    lost.initialize(events.toArray());
    var r = lost.<SecretEntity.RotationReport>runCommand(to -> new SecretEntity.RotateMasterKey("key:admin", to));
    assertEquals(ErrorCode.INTERNAL, r.reply().error().code());
    assertTrue(r.reply().error().message().contains("providers/openai@1"), r.reply().error().message());
    assertTrue(r.reply().error().message().contains(key.id()), r.reply().error().message());
    assertTrue(r.events().isEmpty());
  }
}
