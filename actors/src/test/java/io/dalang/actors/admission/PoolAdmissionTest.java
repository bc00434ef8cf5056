package io.dalang.actors.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.breaker.BreakerSettings;
import io.dalang.actors.placement.PlacementSpec;
import io.dalang.actors.placement.PlacementSettings;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** One pool's admission actor against published slot statuses; no engines, runs are probes. */
class PoolAdmissionTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static int pools;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A pool of its own (fresh topic and actor) with the given slots published. */
  final class Pool {
    final String id = "pool" + (++pools);
    final ActorRef<Topic.Command<SlotStatus>> topic = testKit.spawn(Topic.create(SlotStatus.class, "slots-" + id));
    final ActorRef<PoolAdmission.Command> admission;
    final TestProbe<PoolAdmission.Reply> replies = testKit.createTestProbe();

    Pool(int capacity, OverflowPolicy policy, SlotStatus... slots) {
      this(new AdmissionSettings(capacity, policy, Map.of(), 1, 1), slots);
    }

    Pool(AdmissionSettings queue, SlotStatus... slots) {
      var settings = new PoolAdmission.Settings(p -> queue, PlacementSettings.defaults(Duration.ofSeconds(30)), 0, BreakerSettings.DEFAULTS);
      admission = testKit.spawn(PoolAdmission.create(id, settings, topic, new SimpleMeterRegistry()));
      // Statuses published before the admission actor subscribed would be lost (engines publish every second).
      TestProbe<Topic.TopicStats> stats = testKit.createTestProbe();
      stats.awaitAssert(() -> {
        topic.tell(Topic.getTopicStats(stats.getRef()));
        assertEquals(1, stats.receiveMessage().localSubscriberCount());
        return null;
      });
      for (SlotStatus s : slots) publish(s);
    }

    void publish(SlotStatus s) {
      topic.tell(Topic.publish(new SlotStatus(s.slotId(), id, s.modelId(), s.nodeId(), s.deviceId(), s.state(), s.engineKind(),
          s.engineVersion(), s.deviceKind(), s.computeCapability(), s.quantization(), s.extensions(), s.contextPerSequence(),
          s.slotsTotal(), s.slotsFree(), s.queued(), 0, -1, "", null, System.currentTimeMillis())));
    }

    ActorRef<Void> submit(String runId, String tenant, Priority priority) {
      return submit(runId, tenant, priority, PlacementSpec.of("m", Set.of(id), 10, 10));
    }

    ActorRef<Void> submit(String runId, String tenant, Priority priority, PlacementSpec job) {
      return submit(runId, tenant, priority, job, 0);
    }

    ActorRef<Void> submit(String runId, String tenant, Priority priority, PlacementSpec job, int queuedJobsLimit) {
      ActorRef<Void> owner = testKit.spawn(Behaviors.empty());
      admission.tell(new PoolAdmission.Submit(runId, tenant, job, priority, 0, replies.getRef(), owner, System.currentTimeMillis(),
          queuedJobsLimit));
      return owner;
    }

    String dispatched() {
      var r = replies.expectMessageClass(PoolAdmission.Dispatched.class, Duration.ofSeconds(5));
      return r.runId();
    }

    void nothing() {
      replies.expectNoMessage(Duration.ofMillis(300));
    }

    void release(String runId) {
      admission.tell(new PoolAdmission.Release(runId));
    }
  }

  static SlotStatus slot(String id, String model, int total) {
    return new SlotStatus(id, "", model, "n1", "gpu0", "Ready", "llama-server", "v1", "cuda", "8.6", "F16", Set.of(), 4096, total,
        total, 0, 0, -1, "", null, 0);
  }

  @Test
  void dispatchesOnlyToFreeSequencesAndTheRestWaitsUntilOneIsReleased() {
    var pool = new Pool(8, OverflowPolicy.REJECT, slot("s1", "m", 2));
    pool.submit("r1", "a", Priority.INTERACTIVE);
    pool.submit("r2", "a", Priority.INTERACTIVE);
    pool.submit("r3", "a", Priority.INTERACTIVE);
    assertEquals(Set.of("r1", "r2"), Set.of(pool.dispatched(), pool.dispatched()));
    pool.nothing();
    pool.release("r1");
    assertEquals("r3", pool.dispatched());
  }

  @Test
  void interactiveRunsGoFirstAndTenantsShareFairly() {
    var pool = new Pool(16, OverflowPolicy.REJECT, slot("s1", "m", 1));
    pool.submit("r0", "a", Priority.INTERACTIVE);
    assertEquals("r0", pool.dispatched());
    pool.submit("a-batch", "a", Priority.BATCH);
    pool.submit("a1", "a", Priority.INTERACTIVE);
    pool.submit("a2", "a", Priority.INTERACTIVE);
    pool.submit("a3", "a", Priority.INTERACTIVE);
    pool.submit("b1", "b", Priority.INTERACTIVE);
    pool.nothing();
    var order = new ArrayList<String>();
    String running = "r0";
    for (int i = 0; i < 5; i++) {
      pool.release(running);
      running = pool.dispatched();
      order.add(running);
    }
    assertEquals(List.of("a1", "b1", "a2", "a3", "a-batch"), order, "b is not starved by a's three runs; batch waits for interactive");
  }

  @Test
  void aFullQueueRejectsWithCapacityExhaustedAndDropLruEvictsTheOldestLowerPriorityRun() {
    var reject = new Pool(2, OverflowPolicy.REJECT, slot("s1", "m", 1));
    reject.submit("r0", "a", Priority.INTERACTIVE);
    reject.dispatched();
    reject.submit("r1", "a", Priority.BATCH);
    reject.submit("r2", "a", Priority.BATCH);
    reject.submit("r3", "a", Priority.INTERACTIVE);
    var full = reject.replies.expectMessageClass(PoolAdmission.Rejected.class, Duration.ofSeconds(5));
    assertEquals("r3", full.runId());
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, full.error().code());

    var dropLru = new Pool(2, OverflowPolicy.DROP_LRU, slot("s1", "m", 1));
    dropLru.submit("r0", "a", Priority.INTERACTIVE);
    dropLru.dispatched();
    dropLru.submit("old-batch", "a", Priority.BATCH);
    dropLru.submit("new-batch", "a", Priority.BATCH);
    dropLru.submit("urgent", "b", Priority.INTERACTIVE);
    var evicted = dropLru.replies.expectMessageClass(PoolAdmission.Rejected.class, Duration.ofSeconds(5));
    assertEquals("old-batch", evicted.runId());
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, evicted.error().code());
    dropLru.release("r0");
    assertEquals("urgent", dropLru.dispatched());
  }

  @Test
  void aRunNoSlotCanServeIsRejectedAtOnceWithThePlacementThatSaysWhy() {
    var pool = new Pool(8, OverflowPolicy.REJECT, slot("s1", "m", 1));
    pool.submit("warm", "a", Priority.INTERACTIVE); // proves the slot is known before the real check
    pool.dispatched();
    pool.submit("huge", "a", Priority.INTERACTIVE, PlacementSpec.of("m", Set.of(pool.id), 100, 8000));
    var r = pool.replies.expectMessageClass(PoolAdmission.Rejected.class, Duration.ofSeconds(5));
    assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, r.error().code());
    assertNotNull(r.decision());
    assertTrue(r.decision().candidates().get(0).reasons(r.decision().spec()).get(0).contains("8100 tokens"));
  }

  @Test
  void whenARunsOwnerStopsItsSequenceIsFreedForTheNext() {
    var pool = new Pool(8, OverflowPolicy.REJECT, slot("s1", "m", 1));
    var owner = pool.submit("r1", "a", Priority.INTERACTIVE);
    pool.dispatched();
    pool.submit("r2", "a", Priority.INTERACTIVE);
    pool.nothing();
    testKit.stop(owner);
    assertEquals("r2", pool.dispatched());
  }

  @Test
  void aBusyModelDoesNotBlockAnotherModelsRunsBehindIt() {
    var pool = new Pool(8, OverflowPolicy.REJECT, slot("s1", "m", 1), slot("s2", "other", 1));
    pool.submit("m-1", "a", Priority.INTERACTIVE);
    pool.submit("o-0", "a", Priority.INTERACTIVE, PlacementSpec.of("other", Set.of(pool.id), 1, 1));
    assertEquals(Set.of("m-1", "o-0"), Set.of(pool.dispatched(), pool.dispatched()));
    pool.submit("m-2", "a", Priority.INTERACTIVE); // waits for s1
    pool.release("o-0");
    pool.submit("o-1", "a", Priority.INTERACTIVE, PlacementSpec.of("other", Set.of(pool.id), 1, 1));
    assertEquals("o-1", pool.dispatched(), "m-2 is ahead in the queue, but only s2 is free");
    pool.release("m-1");
    assertEquals("m-2", pool.dispatched());
  }

  @Test
  void submittingAgainIsIdempotent() {
    var pool = new Pool(8, OverflowPolicy.REJECT, slot("s1", "m", 1));
    pool.submit("r1", "a", Priority.INTERACTIVE);
    assertEquals("r1", pool.dispatched());
    pool.submit("r1", "a", Priority.INTERACTIVE);
    assertEquals("r1", pool.dispatched(), "the same answer again");
    pool.submit("r2", "a", Priority.INTERACTIVE);
    pool.submit("r2", "a", Priority.INTERACTIVE);
    pool.nothing(); // r2 is queued once, and r1 still holds the only sequence
    pool.release("r1");
    assertEquals("r2", pool.dispatched());
    pool.nothing();
  }

  @Test
  void aTenantsQueuedJobsQuotaBoundsItsRunsWaitingNotOthers() {
    var pool = new Pool(8, OverflowPolicy.REJECT, slot("s1", "m", 1));
    var job = PlacementSpec.of("m", Set.of(pool.id), 1, 1);
    pool.submit("r0", "a", Priority.INTERACTIVE, job, 1);
    pool.dispatched();
    pool.submit("a1", "a", Priority.INTERACTIVE, job, 1);
    pool.submit("a2", "a", Priority.INTERACTIVE, job, 1);
    var r = pool.replies.expectMessageClass(PoolAdmission.Rejected.class, Duration.ofSeconds(5));
    assertEquals("a2", r.runId());
    assertEquals(ErrorCode.QUOTA_EXCEEDED, r.error().code());
    assertEquals("queued_jobs", r.error().param());
    pool.submit("b1", "b", Priority.INTERACTIVE, job, 1);
    pool.nothing();
    pool.release("r0");
    assertEquals("a1", pool.dispatched());
  }

  @Test
  void aTenantFloodingThePoolGets429OnceItsShareIsQueuedWhileAnotherTenantIsStillAdmitted() {
    var pool = new Pool(new AdmissionSettings(16, OverflowPolicy.REJECT, Map.of(), 1, 1, 4), slot("s1", "m", 1));
    var job = PlacementSpec.of("m", Set.of(pool.id), 1, 1);
    pool.submit("r0", "flood", Priority.INTERACTIVE, job);
    assertEquals("r0", pool.dispatched());
    for (int i = 1; i <= 10; i++) pool.submit("f" + i, "flood", Priority.INTERACTIVE, job);
    for (int i = 5; i <= 10; i++) {
      var r = pool.replies.expectMessageClass(PoolAdmission.Rejected.class, Duration.ofSeconds(5));
      assertEquals("f" + i, r.runId());
      assertEquals(ErrorCode.CAPACITY_EXHAUSTED, r.error().code());
      assertTrue(r.error().message().contains("tenant-share"), r.error().message());
      assertTrue(r.error().code().retriable(), "a 429 with Retry-After");
    }
    pool.submit("b1", "other", Priority.INTERACTIVE, job);
    pool.nothing(); // admitted: it waits, it is not rejected
    pool.release("r0");
    assertEquals("f1", pool.dispatched());
    pool.release("f1");
    assertEquals("b1", pool.dispatched()); // round robin: the other tenant is next, not the flood's backlog
  }
}
