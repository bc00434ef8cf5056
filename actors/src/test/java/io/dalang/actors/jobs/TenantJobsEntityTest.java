package io.dalang.actors.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class TenantJobsEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static int tenants;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  final AtomicLong clock = new AtomicLong(1_795_000_000_000L);
  final EventSourcedBehaviorTestKit<TenantJobsEntity.Command, TenantJobsEntity.Event, TenantJobsEntity.State> kit =
      EventSourcedBehaviorTestKit.create(testKit.system(), TenantJobsEntity.create("acme-" + (++tenants), clock::get));

  EventSourcedBehaviorTestKit.CommandResultWithReply<TenantJobsEntity.Command, TenantJobsEntity.Event, TenantJobsEntity.State,
      TenantJobsEntity.Admission> admit(String jobId, long bytes, JobLimits limits) {
    return kit.runCommand(to -> new TenantJobsEntity.Admit(jobId, bytes, limits, to));
  }

  @Test
  void aJobOverThePendingLimitIsRefusedWithoutAnEventUntilOneIsReleasedAcrossARestart() {
    var limits = new JobLimits(2L, 0L, 0L);
    assertTrue(admit("job_1", 10, limits).reply().granted());
    assertTrue(admit("job_2", 10, limits).reply().granted());
    var refused = admit("job_3", 10, limits);
    assertEquals(ErrorCode.QUOTA_EXCEEDED, refused.reply().error().code());
    assertEquals("pending_jobs", refused.reply().error().param());
    assertTrue(refused.events().isEmpty(), "a refusal persists nothing");
    kit.restart();
    assertTrue(admit("job_1", 10, limits).reply().granted(), "a pending job admitted again is not counted twice");
    assertEquals(2, kit.getState().jobs().size());
    kit.runCommand(new TenantJobsEntity.Release("job_1"));
    kit.runCommand(new TenantJobsEntity.Release("job_1"));
    assertTrue(admit("job_3", 10, limits).reply().granted());
  }

  @Test
  void pendingBytesAreLimitedAndOneJobOverTheWholeLimitIsAnInvalidRequest() {
    var limits = new JobLimits(0L, 100L, 0L);
    assertEquals(ErrorCode.INVALID_REQUEST, admit("job_big", 101, limits).reply().error().code());
    assertTrue(admit("job_1", 60, limits).reply().granted());
    var over = admit("job_2", 41, limits).reply();
    assertEquals(ErrorCode.QUOTA_EXCEEDED, over.error().code());
    assertEquals("pending_job_bytes", over.error().param());
    assertTrue(admit("job_3", 40, limits).reply().granted());
  }

  @Test
  void submissionsPerMinuteAreASlidingWindowWithRetryAfter() {
    var limits = new JobLimits(0L, 0L, 2L);
    assertTrue(admit("job_1", 1, limits).reply().granted());
    clock.addAndGet(20_000);
    assertTrue(admit("job_2", 1, limits).reply().granted());
    var fast = admit("job_3", 1, limits).reply();
    assertEquals("job_submissions_per_minute", fast.error().param());
    assertEquals(40, fast.error().retryAfterSeconds(), "until the first submission leaves the minute");
    clock.addAndGet(40_000);
    assertTrue(admit("job_3", 1, limits).reply().granted());
  }

  @Test
  void aReplayedJobIsPendingAgainWhateverTheLimits() {
    var limits = new JobLimits(1L, 0L, 0L);
    assertTrue(admit("job_1", 1, limits).reply().granted());
    kit.runCommand(new TenantJobsEntity.Readmit("job_2", 5));
    assertEquals(List.of("job_1", "job_2"), kit.getState().jobs().keySet().stream().sorted().toList());
  }
}
