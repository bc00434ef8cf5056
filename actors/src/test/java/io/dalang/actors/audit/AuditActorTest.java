package io.dalang.actors.audit;

import static io.dalang.actors.audit.AuditFixtures.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.h2.tools.Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LogCapturingExtension.class)
class AuditActorTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  @TempDir Path dir;
  /** The writers a test started: stopped before its temp dir goes, so none writes to a deleted database. */
  private final List<ActorRef<AuditActor.Command>> started = new java.util.ArrayList<>();

  @AfterEach
  void stopWriters() {
    for (var a : started) testKit.stop(a, Duration.ofSeconds(10));
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  @Test
  void aRestartedWriterResumesTheChainFromTheStoredHead() {
    var store = AuditFixtures.store(dir);
    var first = spawn(store, 4);
    for (int i = 0; i < 6; i++) first.tell(new AuditActor.Record(entry(i)));
    assertEquals(6, query(first, AuditFilter.ALL).size());
    stop(first);

    var second = spawn(store, 4);
    for (int i = 6; i < 11; i++) second.tell(new AuditActor.Record(entry(i)));
    List<AuditEvent> all = query(second, AuditFilter.ALL);
    assertEquals(LongStream.rangeClosed(1, 11).boxed().toList(), all.stream().map(AuditEvent::seq).toList());
    assertEquals(all.get(5).hash(), all.get(6).prevHash());
    VerifyResult r = verify(second);
    assertTrue(r.ok(), r.reason());
    assertEquals(11, r.count());
    assertEquals(2, r.roots());
    assertEquals(all.get(10).hash(), r.headHash());
  }

  @Test
  void aChainKeepsTheBlockSizeItStartedWith() {
    var store = AuditFixtures.store(dir);
    var first = spawn(store, 4);
    for (int i = 0; i < 5; i++) first.tell(new AuditActor.Record(entry(i)));
    assertEquals(5, query(first, AuditFilter.ALL).size());
    stop(first);
    var second = spawn(store, 3);
    for (int i = 5; i < 12; i++) second.tell(new AuditActor.Record(entry(i)));
    VerifyResult r = verify(second);
    assertTrue(r.ok(), r.reason());
    assertEquals(3, r.roots());
    assertEquals(4, store.chainBlockSize().getAsInt());
  }

  @Test
  void queriesFilterAndAnswerAtMostAPage() {
    var audit = spawn(AuditFixtures.store(dir), 64);
    for (int i = 0; i < AuditActor.MAX_PAGE + 5; i++) audit.tell(new AuditActor.Record(entry(i)));
    assertEquals(AuditActor.MAX_PAGE, query(audit, AuditFilter.ALL).size());
    assertEquals(List.of(1001L, 1002L, 1003L, 1004L, 1005L),
        query(audit, AuditFilter.ALL.page(1000, 0)).stream().map(AuditEvent::seq).toList());
    var denied = query(audit, AuditFilter.ALL.tenant("acme").outcome(AuditOutcome.DENIED).page(0, 3));
    assertEquals(3, denied.size());
    assertTrue(denied.stream().allMatch(e -> e.tenant().equals("acme") && e.outcome().equals("denied")));
  }

  @Test
  void entriesRecordedWhileTheDatabaseIsDownAreWrittenInOrderOnceItIsBack() throws Exception {
    int port;
    try (var s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    var store = new AuditStore("jdbc:h2:tcp://127.0.0.1:" + port + "/audit", "dalang", "");
    var audit = spawn(store, 4); // cannot load the head yet: stashes and retries
    for (int i = 0; i < 3; i++) audit.tell(new AuditActor.Record(entry(i)));
    Server server = tcpServer(port);
    try {
      assertEquals(3, query(audit, AuditFilter.ALL).size());
      server.stop();
      for (int i = 3; i < 6; i++) audit.tell(new AuditActor.Record(entry(i))); // appends fail and are retried
      Thread.sleep(500);
      server = tcpServer(port);
      List<AuditEvent> all = query(audit, AuditFilter.ALL);
      assertEquals(List.of("key-0", "key-0", "POST /v1/admin/tenants", "key-3", "key-3", "POST /v1/admin/tenants"),
          all.stream().map(AuditEvent::target).toList());
      assertTrue(verify(audit).ok());
    } finally {
      server.stop();
    }
  }

  @Test
  void retentionPrunesOldBlocksAndTheChainStillVerifiesAfterARestart() {
    var store = AuditFixtures.store(dir);
    var clock = new MutableClock(AuditFixtures.T0);
    var settings = new AuditSettings(4, Duration.ofHours(1), Duration.ofMillis(100), AuditSettings.DEFAULT_MAX_PENDING);
    var audit = track(testKit.spawn(AuditActor.create(store, settings, clock)));
    for (int i = 0; i < 9; i++) audit.tell(new AuditActor.Record(entry(i)));
    assertEquals(9, query(audit, AuditFilter.ALL).size());
    clock.advance(Duration.ofHours(2));
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(8, store.checkpoint().seq());
      return null;
    });
    List<AuditEvent> left = query(audit, AuditFilter.ALL);
    assertEquals(List.of(9L, 10L), left.stream().map(AuditEvent::seq).toList());
    assertEquals(AuditAction.AUDIT_PRUNE, left.get(1).action());
    assertEquals("8", left.get(1).details().get("through_seq"));
    stop(audit);

    var again = track(testKit.spawn(AuditActor.create(store, settings, clock)));
    again.tell(new AuditActor.Record(entry(10)));
    VerifyResult r = verify(again);
    assertTrue(r.ok(), r.reason());
    assertEquals(8, r.prunedThroughSeq());
    assertEquals(3, r.count());
  }

  /** A clock the test moves forward. */
  static final class MutableClock extends Clock {
    private volatile long millis;

    MutableClock(long millis) {
      this.millis = millis;
    }

    void advance(Duration d) {
      millis += d.toMillis();
    }

    @Override
    public long millis() {
      return millis;
    }

    @Override
    public java.time.Instant instant() {
      return java.time.Instant.ofEpochMilli(millis);
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  @Test
  void everyMessageSurvivesSerialization() {
    var ser = testKit.serializationTestKit();
    var probe = testKit.<StatusReply<AuditActor.Events>>createTestProbe();
    ser.verifySerialization(new AuditActor.Record(entry(0).with("k", "v")), true);
    ser.verifySerialization(new AuditActor.Query(AuditFilter.ALL.tenant("acme").outcome(AuditOutcome.DENIED).since(1L), probe.getRef()), true);
    ser.verifySerialization(new AuditActor.Events(AuditFixtures.chain(3)), true);
    ser.verifySerialization(AuditChain.verify(AuditFixtures.chain(3).iterator(), List.<BlockRoot>of().iterator(), 4), true);
  }

  private Server tcpServer(int port) throws Exception {
    return Server.createTcpServer("-tcpPort", Integer.toString(port), "-baseDir", dir.toString(), "-ifNotExists").start();
  }

  private void stop(ActorRef<AuditActor.Command> a) {
    started.remove(a);
    testKit.stop(a);
  }

  private ActorRef<AuditActor.Command> track(ActorRef<AuditActor.Command> a) {
    started.add(a);
    return a;
  }

  private ActorRef<AuditActor.Command> spawn(AuditStore store, int blockSize) {
    return track(testKit.spawn(AuditActor.create(store, AuditSettings.keepForever(blockSize), Clock.systemUTC())));
  }

  private static List<AuditEvent> query(ActorRef<AuditActor.Command> audit, AuditFilter filter) {
    var probe = testKit.<StatusReply<AuditActor.Events>>createTestProbe();
    audit.tell(new AuditActor.Query(filter, probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(30)).getValue().events();
  }

  private static VerifyResult verify(ActorRef<AuditActor.Command> audit) {
    var probe = testKit.<StatusReply<VerifyResult>>createTestProbe();
    audit.tell(new AuditActor.Verify(probe.getRef()));
    return probe.receiveMessage(Duration.ofSeconds(30)).getValue();
  }
}
