package io.dalang.actors.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.actors.audit.AuditAction;
import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditEntry;
import io.dalang.actors.audit.AuditFilter;
import io.dalang.actors.audit.AuditGate;
import io.dalang.actors.audit.AuditSettings;
import io.dalang.actors.audit.AuditStore;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client against the sharded entity on a one-node cluster with the in-memory journal. */
class SecretsClientTest {
  static final MasterKey KEY = MasterKey.generate();
  static final List<SecretAccess> AUDITS = new CopyOnWriteArrayList<>();
  static ActorTestKit testKit;
  static SecretsClient client;

  @BeforeAll
  static void start() throws Exception {
    testKit = ActorTestKit.create("SecretsClientTest", ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical { hostname = "127.0.0.1", port = 0 }
        pekko.cluster.seed-nodes = []
        """).withFallback(EntityTestKits.config()));
    var cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (cluster.selfMember().status() != MemberStatus.up() && System.nanoTime() < deadline) Thread.sleep(20);
    SecretEntity.init(testKit.system(), MasterKeys.of(KEY), AUDITS::add);
    client = new SecretsClient(testKit.system(), MasterKeys.of(KEY), Duration.ofSeconds(10));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  static DalangException failure(CompletionStage<?> stage) {
    var e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(20, TimeUnit.SECONDS));
    return assertInstanceOf(DalangException.class, e.getCause());
  }

  @Test
  void writesReadsListsAndDeletesThroughTheShardedEntity() throws Exception {
    assertEquals(1, await(client.put("t1", "providers", "openai", SecretValue.of("sk-client-test-value-1"), "key:admin")).version());
    assertEquals(2, await(client.put("t1", "providers", "openai", SecretValue.of("sk-client-test-value-2"), "key:admin")).version());
    assertEquals("sk-client-test-value-2", await(client.get("t1", "providers", "openai", 0, "system:router")).asString());
    assertEquals("sk-client-test-value-1", await(client.get("t1", "providers", "openai", 1, "system:router")).asString());
    var listed = await(client.list("t1", "providers", "key:admin"));
    assertEquals(1, listed.size());
    assertEquals(2, listed.get(0).versions().size());
    assertFalse(listed.toString().contains("sk-client-test"));
    assertEquals(2, await(client.delete("t1", "providers", "openai", "key:admin")));
    assertEquals(ErrorCode.NOT_FOUND, failure(client.get("t1", "providers", "openai", 0, "system:router")).code());
  }

  @Test
  void tenantsAreSeparateEntities() throws Exception {
    await(client.put("t2", "providers", "openai", SecretValue.of("value-of-tenant-two"), "key:admin"));
    assertEquals(ErrorCode.NOT_FOUND, failure(client.get("t3", "providers", "openai", 0, "system:router")).code());
  }

  @Test
  void invalidNamesFailBeforeAnythingIsSent() {
    assertEquals(ErrorCode.INVALID_REQUEST, failure(client.put("t1", "Providers", "openai", SecretValue.of("abcdefghijk"), "a")).code());
    assertEquals(ErrorCode.INVALID_REQUEST, failure(client.get("t1", "providers", "open ai", 0, "a")).code());
  }

  @Test
  void aNodeWithoutTheMasterKeyCannotReadOrWrite() throws Exception {
    await(client.put("t4", "providers", "openai", SecretValue.of("value-of-tenant-four"), "key:admin"));
    var stranger = new SecretsClient(testKit.system(), MasterKeys.of(MasterKey.generate()), Duration.ofSeconds(10));
    var read = failure(stranger.get("t4", "providers", "openai", 0, "system:router"));
    assertEquals(ErrorCode.INTERNAL, read.code());
    assertEquals(SecretCryptoException.Reason.UNKNOWN_KEY, assertInstanceOf(SecretCryptoException.class, read).reason());
    assertEquals(ErrorCode.INTERNAL, failure(stranger.put("t4", "providers", "openai", SecretValue.of("other-value-1234"), "x")).code());
  }

  @Test
  void rotationHasNothingToDoWhenEverythingIsUnderTheCurrentKey() throws Exception {
    await(client.put("t5", "webhooks", "slack", SecretValue.of("xoxb-client-test-value"), "key:admin"));
    var report = await(client.rotateMasterKey("t5", "key:admin"));
    assertEquals(0, report.rewrapped());
    assertEquals(1, report.alreadyCurrent());
    assertEquals(KEY.id(), report.keyId());
  }

  @Test
  void aValueIsOpenedOnlyOnceItsReadIsStoredInTheLedgerAndNotWhenTheLedgerIsFull(@TempDir Path dir) throws Exception {
    var store = new AuditStore("jdbc:h2:file:" + dir.resolve("audit"), "dalang", "");
    var ledger = testKit.spawn(AuditActor.create(store, AuditSettings.keepForever(4).withMaxPending(1), Clock.systemUTC()));
    var gate = new AuditGate(ledger, testKit.system().scheduler(), Duration.ofSeconds(5));
    var gated = new SecretsClient(testKit.system(), MasterKeys.of(KEY), Duration.ofSeconds(10), read -> gate.recordDurably(
        AuditEntry.ok(read.tenant(), read.actor(), AuditAction.SECRET_READ, read.namespace() + "/" + read.name())));
    await(client.put("t4", "providers", "openai", SecretValue.of("sk-gated-value-4"), "key:admin"));

    assertEquals("sk-gated-value-4", await(gated.get("t4", "providers", "openai", 0, "system:fallback")).asString());
    var stored = store.query(AuditFilter.ALL.action(AuditAction.SECRET_READ));
    assertEquals(1, stored.size(), "the read was in the ledger when the value was handed out");

    try (var db = DriverManager.getConnection(store.url(), "dalang", ""); var sql = db.createStatement()) {
      sql.execute("ALTER TABLE dalang_audit_event ADD CONSTRAINT audit_held CHECK (seq < 0) NOCHECK");
      ledger.tell(new AuditActor.Record(AuditEntry.ok("t4", "key:admin", "secret.list", "")));
      var refused = failure(gated.get("t4", "providers", "openai", 0, "system:fallback"));
      assertEquals(ErrorCode.AUDIT_UNAVAILABLE, refused.code());
      assertFalse(refused.getMessage().contains("sk-gated"), refused.getMessage());
      sql.execute("ALTER TABLE dalang_audit_event DROP CONSTRAINT audit_held");
    }
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
      assertEquals(1, store.query(AuditFilter.ALL.action("secret.list")).size(), "the writer caught up");
      return null;
    });
    assertEquals("sk-gated-value-4", await(gated.get("t4", "providers", "openai", 0, "system:fallback")).asString());
    assertEquals(2, store.query(AuditFilter.ALL.action(AuditAction.SECRET_READ)).size(), "the refused read was not recorded, the later one was");
  }
}
