package io.dalang.actors.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
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
}
