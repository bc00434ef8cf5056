package io.dalang.actors.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@link AuditActor#init} on a single-node cluster with the shipped config, as {@code dalang serve} runs it. */
@ExtendWith(LogCapturingExtension.class)
class AuditSingletonTest {
  @TempDir static Path dir;
  static ActorTestKit testKit;
  static Config config;

  @BeforeAll
  static void singleNodeCluster() {
    config = ConfigFactory.parseMap(Map.of(
            "pekko.remote.artery.canonical.port", 0,
            "pekko-persistence-jdbc.shared-databases.slick.db.url",
            "jdbc:h2:file:" + dir.resolve("db").resolve("dalang") + ";AUTO_SERVER=TRUE"))
        .withFallback(ConfigFactory.load()).resolve();
    testKit = ActorTestKit.create("audit", config);
    var cluster = Cluster.get(testKit.system());
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(20), () -> {
      assertEquals(MemberStatus.up(), cluster.selfMember().status());
      return null;
    });
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void theSingletonRecordsIntoTheJournalsDatabase() {
    var audit = AuditActor.init(testKit.system(), config);
    audit.tell(new AuditActor.Record(AuditEntry.ok("acme", "bootstrap-admin", AuditAction.TENANT_CREATE, "acme")));
    audit.tell(new AuditActor.Record(AuditEntry.denied("acme", "key-1", AuditAction.ACCESS_DENIED, "POST /v1/admin/keys", "not an admin")));
    var probe = testKit.<StatusReply<VerifyResult>>createTestProbe();
    audit.tell(new AuditActor.Verify(probe.getRef()));
    VerifyResult r = probe.receiveMessage(Duration.ofSeconds(30)).getValue();
    assertTrue(r.ok(), r.reason());
    assertEquals(2, r.count());
    assertEquals(2, AuditStore.fromConfig(config).query(AuditFilter.ALL).size());
  }
}
