package io.dalang.actors.admission.internal;

import io.dalang.actors.admission.OverflowPolicy;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.admission.AdmissionSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AdmissionQueueTest {
  static final long MS = 1_000_000L;
  static final long NOW = 1_000 * MS;

  static AdmissionQueue<String> queue(int capacity, OverflowPolicy policy) {
    return queue(new AdmissionSettings(capacity, policy, Map.of(), 1, 1));
  }

  static AdmissionQueue<String> queue(AdmissionSettings settings) {
    return new AdmissionQueue<>(settings);
  }

  static AdmissionItem<String> job(String id, String tenant, Priority priority) {
    return new AdmissionItem<>(id, tenant, priority, NOW, AdmissionItem.NO_DEADLINE, 1, "payload-" + id);
  }

  static AdmissionItem<String> job(String id, String tenant, Priority priority, long deadlineNanos) {
    return new AdmissionItem<>(id, tenant, priority, NOW, deadlineNanos, 1, "payload-" + id);
  }

  static AdmissionItem<String> costly(String id, String tenant, int cost) {
    return new AdmissionItem<>(id, tenant, Priority.BATCH, NOW, AdmissionItem.NO_DEADLINE, cost, "payload-" + id);
  }

  static void admit(AdmissionQueue<String> q, AdmissionItem<String> job) {
    assertInstanceOf(OfferResult.Admitted.class, q.offer(job, NOW), job.id());
  }

  /** Polls until empty and returns the ids in dispatch order. */
  static List<String> drain(AdmissionQueue<String> q, long now) {
    var ids = new ArrayList<String>();
    for (var r = q.poll(now); r.next().isPresent(); r = q.poll(now)) ids.add(r.next().get().id());
    return ids;
  }

  @Test
  void drainingEmptiesTheQueueAndReturnsEveryJobOnce() {
    var q = queue(10, OverflowPolicy.REJECT);
    admit(q, job("a", "t1", Priority.BATCH));
    admit(q, job("b", "t2", Priority.INTERACTIVE, NOW + 1_000));
    admit(q, job("c", "t1", Priority.INTERACTIVE));
    var ids = q.drain().stream().map(AdmissionItem::id).sorted().toList();
    assertEquals(List.of("a", "b", "c"), ids);
    assertEquals(0, q.size());
    assertEquals(0, q.depth("t1"));
    assertEquals(List.of(), q.expire(NOW + 2_000), "no deadline is left behind");
    assertEquals(new PollResult<String>(Optional.empty(), List.of()), q.poll(NOW));
    admit(q, job("a", "t1", Priority.BATCH)); // the ids are free again
  }

  @Test
  void dispatchesOneTenantsJobsInOfferOrder() {
    var q = queue(10, OverflowPolicy.REJECT);
    for (var id : List.of("j1", "j2", "j3")) admit(q, job(id, "t1", Priority.BATCH));
    assertEquals(3, q.size());
    assertEquals(List.of("j1", "j2", "j3"), drain(q, NOW));
    assertEquals(0, q.size());
    assertEquals(new PollResult<String>(Optional.empty(), List.of()), q.poll(NOW));
  }

  @Test
  void rejectsWhenFullUnderRejectPolicyWithRetryAfter() {
    var q = queue(2, OverflowPolicy.REJECT);
    admit(q, job("j1", "t1", Priority.BATCH));
    admit(q, job("j2", "t2", Priority.BATCH));
    var r = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("j3", "t3", Priority.INTERACTIVE), NOW, 1_500_000));
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, r.code());
    assertTrue(r.reason().contains("full"), r.reason());
    assertEquals(2, r.retryAfterMs(), "the estimated wait, rounded up to milliseconds");
    var noEstimate = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("j3", "t3", Priority.INTERACTIVE), NOW));
    assertEquals(0, noEstimate.retryAfterMs());
    assertEquals(2, q.size());
    assertEquals(0, q.depth("t3"));

    q.poll(NOW);
    assertTrue(q.offer(job("j3", "t3", Priority.INTERACTIVE), NOW).admitted(), "a dispatch frees a place");
  }

  @Test
  void dropLruEvictsTheOldestJobOfTheLowestPriority() {
    var q = queue(3, OverflowPolicy.DROP_LRU);
    admit(q, job("b1", "t1", Priority.BATCH));
    admit(q, job("i1", "t1", Priority.INTERACTIVE));
    admit(q, job("b2", "t2", Priority.BATCH));

    var first = assertInstanceOf(OfferResult.AdmittedEvicting.class, q.offer(job("i2", "t2", Priority.INTERACTIVE), NOW));
    assertEquals("b1", first.victim().id(), "the oldest batch job, though an interactive job is older");
    var second = assertInstanceOf(OfferResult.AdmittedEvicting.class, q.offer(job("i3", "t3", Priority.INTERACTIVE), NOW));
    assertEquals("b2", second.victim().id());
    assertEquals(3, q.size());
    assertEquals(Optional.empty(), q.remove("b1"), "a victim has left the queue");
    assertEquals(List.of("i1", "i2", "i3"), drain(q, NOW));
  }

  @Test
  void dropLruRejectsTheIncomingJobRatherThanEvictAJobOfEqualPriority() {
    var q = queue(2, OverflowPolicy.DROP_LRU);
    admit(q, job("b1", "t1", Priority.BATCH));
    admit(q, job("b2", "t1", Priority.BATCH));
    var r = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("b3", "t2", Priority.BATCH), NOW, 10 * MS));
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, r.code());
    assertEquals(10, r.retryAfterMs());
    assertTrue(r.reason().contains("no job of lower priority than BATCH"), r.reason());
    assertEquals(List.of("b1", "b2"), drain(q, NOW));
  }

  @Test
  void dropLruRejectsAnIncomingJobOfLowerPriorityThanEveryQueuedJob() {
    var q = queue(2, OverflowPolicy.DROP_LRU);
    admit(q, job("i1", "t1", Priority.INTERACTIVE));
    admit(q, job("i2", "t1", Priority.INTERACTIVE));
    var r = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("b1", "t2", Priority.BATCH), NOW));
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, r.code());
    var equal = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("i3", "t2", Priority.INTERACTIVE), NOW));
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, equal.code());
    assertEquals(List.of("i1", "i2"), drain(q, NOW));
  }

  @Test
  void rejectsAJobThatCannotStartBeforeItsDeadline() {
    var q = queue(10, OverflowPolicy.REJECT);
    var r = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("j1", "t1", Priority.INTERACTIVE, NOW + 50 * MS), NOW, 80 * MS));
    assertEquals(ErrorCode.TIMEOUT, r.code());
    assertTrue(r.reason().contains("cannot start before its deadline"), r.reason());
    assertEquals(0, r.retryAfterMs(), "the same deadline will not become reachable");
    var passed = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("j2", "t1", Priority.INTERACTIVE, NOW - 1), NOW));
    assertEquals(ErrorCode.TIMEOUT, passed.code());
    assertEquals(0, q.size());
  }

  @Test
  void admitsAJobWhoseDeadlineIsExactlyReachableAndDispatchesItAtItsDeadline() {
    var q = queue(10, OverflowPolicy.REJECT);
    assertTrue(q.offer(job("j1", "t1", Priority.INTERACTIVE, NOW + 80 * MS), NOW, 80 * MS).admitted());
    var r = q.poll(NOW + 80 * MS);
    assertEquals("j1", r.next().orElseThrow().id());
    assertEquals(List.of(), r.expired());
  }

  @Test
  void expiresJobsWhoseDeadlinePassedWhileQueued() {
    var q = queue(10, OverflowPolicy.REJECT);
    admit(q, job("late", "t1", Priority.INTERACTIVE, NOW + 10 * MS));
    admit(q, job("patient", "t1", Priority.INTERACTIVE));
    admit(q, job("later", "t2", Priority.BATCH, NOW + 5 * MS));
    admit(q, job("fresh", "t2", Priority.BATCH, NOW + 60 * MS));

    var r = q.poll(NOW + 20 * MS);
    assertEquals(List.of("later", "late"), r.expired().stream().map(AdmissionItem::id).toList(), "earliest deadline first");
    assertEquals("patient", r.next().orElseThrow().id());
    assertEquals(1, q.size());
    assertEquals(Optional.empty(), q.remove("late"));
    var last = q.poll(NOW + 20 * MS);
    assertEquals("fresh", last.next().orElseThrow().id());
    assertEquals(List.of(), last.expired());
  }

  @Test
  void reportsExpiredJobsEvenWhenNothingIsLeftToDispatch() {
    var q = queue(10, OverflowPolicy.REJECT);
    admit(q, job("j1", "t1", Priority.BATCH, NOW + MS));
    var r = q.poll(NOW + 2 * MS);
    assertEquals(Optional.empty(), r.next());
    assertEquals(List.of("j1"), r.expired().stream().map(AdmissionItem::id).toList());
  }

  @Test
  void expiringBeforeAnOfferFreesThePlacesOfDeadJobs() {
    var q = queue(1, OverflowPolicy.REJECT);
    admit(q, job("j1", "t1", Priority.BATCH, NOW + MS));
    long later = NOW + 2 * MS;
    assertEquals(List.of("j1"), q.expire(later).stream().map(AdmissionItem::id).toList());
    assertTrue(q.offer(job("j2", "t1", Priority.BATCH), later).admitted());
  }

  @Test
  void interactiveJobsGoBeforeBatchJobs() {
    var q = queue(10, OverflowPolicy.REJECT);
    admit(q, job("b1", "t1", Priority.BATCH));
    admit(q, job("b2", "t2", Priority.BATCH));
    admit(q, job("i1", "t3", Priority.INTERACTIVE));
    assertEquals("i1", q.poll(NOW).next().orElseThrow().id());
    assertEquals("b1", q.poll(NOW).next().orElseThrow().id());
    admit(q, job("i2", "t1", Priority.INTERACTIVE));
    assertEquals(List.of("i2", "b2"), drain(q, NOW), "an interactive job overtakes batch jobs already waiting");
  }

  @Test
  void cancelledJobsLeaveTheQueue() {
    var q = queue(3, OverflowPolicy.REJECT);
    admit(q, job("j1", "t1", Priority.BATCH));
    admit(q, job("j2", "t1", Priority.BATCH, NOW + 10 * MS));
    admit(q, job("j3", "t2", Priority.INTERACTIVE));
    assertEquals("j2", q.remove("j2").orElseThrow().id());
    assertEquals(2, q.size());
    assertEquals(1, q.depth("t1"));
    assertEquals(Optional.empty(), q.remove("j2"), "cancelling twice finds nothing");
    assertEquals(Optional.empty(), q.remove("never-queued"));
    assertTrue(q.offer(job("j2", "t1", Priority.BATCH), NOW).admitted(), "its place and its id are free again");
    var r = q.poll(NOW + 20 * MS);
    assertEquals(List.of(), r.expired(), "a cancelled job does not expire later");
    assertEquals("j3", r.next().orElseThrow().id());
    assertEquals(List.of("j1", "j2"), drain(q, NOW));
  }

  @Test
  void rejectsASecondJobWithAnIdAlreadyQueued() {
    var q = queue(10, OverflowPolicy.REJECT);
    admit(q, job("j1", "t1", Priority.BATCH));
    var r = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("j1", "t2", Priority.INTERACTIVE), NOW));
    assertEquals(ErrorCode.INVALID_REQUEST, r.code());
    assertEquals(1, q.size());
    assertEquals(0, q.depth("t2"));
  }

  @Test
  void tenantsShareByWeightWithinAPriorityClass() {
    var q = queue(new AdmissionSettings(100, OverflowPolicy.REJECT, Map.of("a", 2, "b", 1), 1, 1));
    for (int i = 0; i < 4; i++) {
      admit(q, job("a" + i, "a", Priority.BATCH));
      admit(q, job("b" + i, "b", Priority.BATCH));
    }
    assertEquals(List.of("a0", "a1", "b0", "a2", "a3", "b1", "b2", "b3"), drain(q, NOW));
  }

  @Test
  void theQuantumScalesEveryTenantsTurn() {
    var q = queue(new AdmissionSettings(100, OverflowPolicy.REJECT, Map.of(), 1, 3));
    for (int i = 0; i < 4; i++) {
      admit(q, job("a" + i, "a", Priority.BATCH));
      admit(q, job("b" + i, "b", Priority.BATCH));
    }
    assertEquals(List.of("a0", "a1", "a2", "b0", "b1", "b2", "a3", "b3"), drain(q, NOW));
  }

  @Test
  void tenantsWithoutAConfiguredWeightGetTheDefault() {
    var q = queue(new AdmissionSettings(100, OverflowPolicy.REJECT, Map.of("a", 1), 3, 1));
    for (int i = 0; i < 4; i++) {
      admit(q, job("a" + i, "a", Priority.BATCH));
      admit(q, job("b" + i, "b", Priority.BATCH));
    }
    assertEquals(List.of("a0", "b0", "b1", "b2", "a1", "b3", "a2", "a3"), drain(q, NOW));
  }

  @Test
  void aJobCostingMoreThanItsTenantsCreditWaitsForEnoughRounds() {
    var q = queue(100, OverflowPolicy.REJECT);
    admit(q, costly("big", "a", 3));
    for (int i = 0; i < 4; i++) admit(q, costly("small" + i, "b", 1));
    assertEquals(List.of("small0", "small1", "big", "small2", "small3"), drain(q, NOW));
  }

  @Test
  void jobsCostingFarMoreThanTheQuantumDispatchWithoutLoopingOverIdleRounds() {
    var q = queue(100, OverflowPolicy.REJECT);
    admit(q, costly("huge", "a", Integer.MAX_VALUE));
    admit(q, costly("large", "b", Integer.MAX_VALUE / 2));
    // Plain DRR with quantum 1 would turn about 2^31 times before the first dispatch.
    assertEquals(List.of("large", "huge"), assertTimeoutPreemptively(Duration.ofSeconds(5), () -> drain(q, NOW)));
  }

  @Test
  void aTenantThatRunsOutOfJobsForfeitsItsDeficit() {
    var q = queue(new AdmissionSettings(100, OverflowPolicy.REJECT, Map.of("a", 3), 1, 1));
    admit(q, job("a0", "a", Priority.BATCH));
    admit(q, job("b0", "b", Priority.BATCH));
    admit(q, job("b1", "b", Priority.BATCH));
    assertEquals("a0", q.poll(NOW).next().orElseThrow().id()); // a earned 3, spent 1, then ran out
    for (int i = 1; i <= 5; i++) admit(q, job("a" + i, "a", Priority.BATCH));
    // Had a kept its 2 unspent units it would now dispatch a1..a5 in one turn.
    assertEquals(List.of("b0", "a1", "a2", "a3", "b1", "a4", "a5"), drain(q, NOW), "a rejoins at the tail with no saved credit");
  }

  @Test
  void depthCountsATenantsJobsAcrossPriorities() {
    var q = queue(10, OverflowPolicy.REJECT);
    admit(q, job("j1", "t1", Priority.BATCH));
    admit(q, job("j2", "t1", Priority.INTERACTIVE));
    admit(q, job("j3", "t2", Priority.INTERACTIVE));
    assertEquals(2, q.depth("t1"));
    assertEquals(1, q.depth("t2"));
    assertEquals(0, q.depth("t3"));
    assertEquals(10, q.capacity());
  }

  @Test
  void deadlinesAreComparedSafelyAcrossTheWrapOfTheClock() {
    var q = queue(10, OverflowPolicy.REJECT);
    long now = Long.MAX_VALUE - 5 * MS;
    long deadline = now + 10 * MS; // wraps past Long.MAX_VALUE, as System.nanoTime() may
    assertTrue(deadline < 0 && deadline != AdmissionItem.NO_DEADLINE);
    assertTrue(q.offer(new AdmissionItem<>("j1", "t1", Priority.BATCH, now, deadline, 1, "p"), now).admitted());
    assertTrue(q.offer(new AdmissionItem<>("j2", "t1", Priority.BATCH, now, deadline, 1, "p"), now).admitted());
    assertEquals("j1", q.poll(now).next().orElseThrow().id());
    assertEquals(List.of("j2"), q.poll(now + 20 * MS).expired().stream().map(AdmissionItem::id).toList());
  }

  @Test
  void refusesSettingsAndJobsThatMakeNoSense() {
    assertThrows(IllegalArgumentException.class, () -> new AdmissionSettings(0, OverflowPolicy.REJECT, Map.of(), 1, 1));
    assertThrows(IllegalArgumentException.class, () -> new AdmissionSettings(1, OverflowPolicy.REJECT, Map.of(), 0, 1));
    assertThrows(IllegalArgumentException.class, () -> new AdmissionSettings(1, OverflowPolicy.REJECT, Map.of(), 1, 0));
    assertThrows(IllegalArgumentException.class, () -> new AdmissionSettings(1, OverflowPolicy.REJECT, Map.of("a", 0), 1, 1));
    assertThrows(IllegalArgumentException.class, () -> costly("j1", "t1", 0));
    var q = queue(1, OverflowPolicy.REJECT);
    assertThrows(IllegalArgumentException.class, () -> q.offer(job("j1", "t1", Priority.BATCH), NOW, -1));
  }

  @Test
  void aTenantOverItsShareIsRejectedWhileOthersStillGetInAndItNeverEvicts() {
    var q = queue(new AdmissionSettings(10, OverflowPolicy.DROP_LRU, Map.of(), 1, 1, 3));
    for (int i = 0; i < 3; i++) assertInstanceOf(OfferResult.Admitted.class, q.offer(job("a" + i, "a", Priority.BATCH), NOW));
    var over = assertInstanceOf(OfferResult.Rejected.class, q.offer(job("a3", "a", Priority.INTERACTIVE), NOW, 2 * MS));
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, over.code());
    assertTrue(over.reason().contains("tenant-share"), over.reason());
    assertEquals(2, over.retryAfterMs());
    assertInstanceOf(OfferResult.Admitted.class, q.offer(job("b0", "b", Priority.BATCH), NOW));
    assertEquals(3, q.depth("a"));
    // Once one of its jobs leaves the queue, the tenant gets in again.
    q.poll(NOW);
    assertInstanceOf(OfferResult.Admitted.class, q.offer(job("a4", "a", Priority.BATCH), NOW));
  }

  @Test
  void theDefaultTenantShareIsAQuarterOfTheQueueAtLeastEight() {
    assertEquals(64, AdmissionSettings.defaultTenantShare(256));
    assertEquals(8, AdmissionSettings.defaultTenantShare(16));
    assertEquals(4, AdmissionSettings.defaultTenantShare(4));
  }
}
