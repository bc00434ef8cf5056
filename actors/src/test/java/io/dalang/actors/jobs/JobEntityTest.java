package io.dalang.actors.jobs;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.GenerationRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class JobEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final JobSettings SETTINGS = new JobSettings(3, Duration.ofMillis(10), Duration.ofMillis(40), 0, Duration.ofSeconds(30),
      Duration.ofMinutes(1), 4, Duration.ofHours(24), Duration.ofMinutes(1));
  static int jobs;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  final String jobId = "job_test" + (++jobs);
  final ScriptedExecutor executor = new ScriptedExecutor();
  EventSourcedBehaviorTestKit<JobCommand, JobEvent, JobState> kit = kit(SETTINGS);

  EventSourcedBehaviorTestKit<JobCommand, JobEvent, JobState> kit(JobSettings settings) {
    return EventSourcedBehaviorTestKit.create(testKit.system(), JobEntity.create(jobId, null, executor, settings, System::currentTimeMillis));
  }

  Job job(String hash) {
    var request = new JobRequest("dalang-demo", new GenerationRequest("pending", null, List.of(new ChatMessage("user", "hi")),
        16, 0, 1, 7L, List.of()));
    return new Job(jobId, "acme", "app", "tenant-user", request, "key-1", hash, Instant.now());
  }

  StatusReply<JobView> submit(String hash) {
    var r = kit.<StatusReply<JobView>>runCommand(to -> new JobCommand.SubmitJob(job(hash), to));
    return r.reply();
  }

  JobCommand.ReplayResult replay(String replayId) {
    return kit.<StatusReply<JobCommand.ReplayResult>>runCommand(to -> new JobCommand.ReplayJob(replayId, "ops", to)).reply().getValue();
  }

  JobState awaitState(Predicate<JobState> p) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      JobState s = kit.getState();
      if (p.test(s)) return s;
      Thread.sleep(10);
    }
    throw new AssertionError("state never matched; last: " + kit.getState());
  }

  List<Object> journal() {
    return kit.persistenceTestKit().persistedInStorage("Job|" + jobId);
  }

  long count(Class<?> event) {
    return journal().stream().filter(event::isInstance).count();
  }

  @Test
  void aJobIsAcknowledgedOnlyOnceItsSubmissionIsPersistedAndSucceedsOnItsFirstAttempt() throws Exception {
    executor.hangs();
    var r = kit.<StatusReply<JobView>>runCommand(to -> new JobCommand.SubmitJob(job("h1"), to));
    assertTrue(r.reply().isSuccess());
    assertInstanceOf(JobEvent.JobSubmitted.class, r.event());
    assertEquals(jobId, r.reply().getValue().jobId());
    awaitState(s -> s instanceof JobState.Running);
    assertEquals(List.of("run_test" + jobs + "-1"), executor.startedRuns());
    executor.open.get(0).complete(io.dalang.actors.jobs.AttemptOutcome.succeeded("run_test" + jobs + "-1", "llama-inprocess", "slot-1",
        "hello there", "stop", new io.dalang.protocols.generation.Usage(3, 2)));
    var done = (JobState.Succeeded) awaitState(s -> s instanceof JobState.Succeeded);
    assertEquals("hello there", done.result().text());
    assertEquals("stop", done.result().finishReason());
    assertEquals(2, done.result().completionTokens());
    assertEquals("slot-1", done.attempts().get(0).slotId());
    assertEquals(List.of(JobEvent.JobSubmitted.class, JobEvent.AttemptStarted.class, JobEvent.JobSucceeded.class),
        journal().stream().map(Object::getClass).toList());
  }

  @Test
  void aRetriableFailureIsRetriedAfterItsBackoffAndTheJobSucceedsOnce() throws Exception {
    executor.fails(ErrorCode.NO_READY_SLOT).succeeds("second time lucky");
    submit("h1");
    var done = (JobState.Succeeded) awaitState(s -> s instanceof JobState.Succeeded);
    assertEquals(2, done.attempts().size());
    assertEquals("no_ready_slot", done.attempts().get(0).errorCode());
    assertNull(done.attempts().get(1).errorCode());
    assertEquals(done.attempts().get(1).runId(), done.result().runId());
    assertEquals(1, count(JobEvent.JobSucceeded.class));
  }

  @Test
  void aClientAttachingToAJobWithoutALiveOutputIsAnsweredWithTheFinishedJob() throws Exception {
    executor.hangs();
    assertTrue(submit("h").isSuccess());
    awaitState(s -> s instanceof JobState.Running);
    TestProbe<JobCommand.LiveTarget> client = testKit.createTestProbe();
    kit.runCommand(new JobCommand.AttachLive(null, client.ref()));
    String run = executor.startedRuns().get(0);
    executor.open.get(0).complete(AttemptOutcome.succeeded(run, "llama-inprocess", "slot-1", "done", "stop", null));
    var done = (JobCommand.Done) client.receiveMessage();
    assertEquals(JobView.SUCCEEDED, done.job().state());
    kit.runCommand(new JobCommand.AttachLive(run, client.ref()));
    assertEquals(JobView.SUCCEEDED, ((JobCommand.Done) client.receiveMessage()).job().state(), "a finished job answers at once");
  }

  @Test
  void aRetriableFailureAfterTokensReachedAClientIsNotRetried() throws Exception {
    executor.delivered = true;
    executor.fails(ErrorCode.ENGINE_FAILED).succeeds("a second run the client must never see");
    assertTrue(submit("h").isSuccess());
    var dead = (JobState.DeadLettered) awaitState(s -> s instanceof JobState.DeadLettered);
    assertEquals(1, executor.startedRuns().size(), "no retry after the first token went out");
    assertEquals("engine_failed", dead.attempts().get(0).errorCode());
    assertTrue(dead.attempts().get(0).errorMessage().contains("not retried"), dead.attempts().get(0).errorMessage());
  }

  @Test
  void aNonRetriableErrorDeadLettersTheJobAfterOneAttempt() throws Exception {
    executor.fails(ErrorCode.CONTEXT_LENGTH_EXCEEDED);
    submit("h1");
    var dead = (JobState.DeadLettered) awaitState(s -> s instanceof JobState.DeadLettered);
    assertEquals(1, dead.attempts().size());
    assertEquals("context_length_exceeded", dead.attempts().get(0).errorCode());
    assertEquals(List.of("run_test" + jobs + "-1"), executor.startedRuns());
  }

  @Test
  void retriableFailuresThatExhaustTheAttemptsDeadLetterTheJobWithEachAttemptsHistory() throws Exception {
    executor.fails(ErrorCode.NO_READY_SLOT).fails(ErrorCode.ENGINE_FAILED).fails(ErrorCode.TIMEOUT).succeeds("too late");
    submit("h1");
    var dead = (JobState.DeadLettered) awaitState(s -> s instanceof JobState.DeadLettered);
    assertEquals(List.of("no_ready_slot", "engine_failed", "timeout"), dead.attempts().stream().map(Attempt::errorCode).toList());
    for (Attempt a : dead.attempts()) {
      assertEquals("llama-inprocess", a.engine());
      assertFalse(a.endedAt().isBefore(a.startedAt()));
    }
    kit.restart();
    assertEquals(dead, kit.getState());
    assertEquals(3, executor.startedRuns().size());
  }

  @Test
  void anOutcomeOfAnAttemptThatIsNotOpenIsIgnoredSoTheJobSucceedsExactlyOnce() throws Exception {
    executor.succeeds("once");
    submit("h1");
    awaitState(s -> s instanceof JobState.Succeeded);
    String run = executor.startedRuns().get(0);
    var again = kit.runCommand(new JobCommand.RecordOutcome(1, AttemptOutcome.succeeded(run, "e", "s", "twice", "stop", null)));
    assertTrue(again.events().isEmpty());
    var stale = kit.runCommand(new JobCommand.RecordOutcome(7, AttemptOutcome.failed(run, ErrorCode.INTERNAL, "late")));
    assertTrue(stale.events().isEmpty());
    assertEquals("once", ((JobState.Succeeded) kit.getState()).result().text());
    assertEquals(1, count(JobEvent.JobSucceeded.class));
  }

  @Test
  void anAttemptThatWasRunningWhenTheProcessDiedIsFailedAsRetriableAndRetriedOnRecovery() throws Exception {
    var submitted = new JobEvent.JobSubmitted(job("h1"), 3);
    var started = new JobEvent.AttemptStarted(1, "run_before_crash-1", Instant.now());
    executor.succeeds("after the crash");
    kit.initialize(submitted, started);
    var done = (JobState.Succeeded) awaitState(s -> s instanceof JobState.Succeeded);
    assertEquals("internal", done.attempts().get(0).errorCode());
    assertTrue(done.attempts().get(0).errorMessage().startsWith("interrupted"));
    assertEquals("after the crash", done.result().text());
    assertEquals(1, executor.startedRuns().size(), "only the retry ran here");
  }

  @Test
  void aReplayQueuesADeadLetteredJobAgainOnceAndRepeatingItChangesNothing() throws Exception {
    executor.fails(ErrorCode.PERMISSION_DENIED);
    submit("h1");
    awaitState(s -> s instanceof JobState.DeadLettered);
    executor.hangs();
    var first = kit.<StatusReply<JobCommand.ReplayResult>>runCommand(to -> new JobCommand.ReplayJob("r-1", "ops", to));
    assertTrue(first.reply().getValue().replayed());
    assertInstanceOf(JobEvent.JobReplayed.class, first.event());
    assertEquals(4, ((JobEvent.JobReplayed) first.event()).attemptLimit(), "a fresh budget of 3 after the 1 used");
    var repeated = kit.<StatusReply<JobCommand.ReplayResult>>runCommand(to -> new JobCommand.ReplayJob("r-1", "ops", to));
    assertFalse(repeated.reply().getValue().replayed());
    assertTrue(repeated.events().isEmpty());
    awaitState(s -> s instanceof JobState.Running);
    executor.open.get(0).complete(AttemptOutcome.succeeded(executor.startedRuns().get(1), "e", "s", "fixed", "stop", null));
    var done = (JobState.Succeeded) awaitState(s -> s instanceof JobState.Succeeded);
    assertEquals(List.of("ops"), done.replays().stream().map(JobState.Replay::actor).toList());
    var late = replay("r-2");
    assertFalse(late.replayed());
    assertTrue(late.note().contains("not dead-lettered"), late.note());
  }

  @Test
  void aFinishedJobDropsItsRequestBodyAfterTheBodyTtlForGoodAndCannotBeReplayed() throws Exception {
    kit = kit(SETTINGS.withBodyTtl(Duration.ofMillis(300)));
    executor.fails(ErrorCode.PERMISSION_DENIED);
    submit("h1");
    var dead = (JobState.DeadLettered) awaitState(s -> s instanceof JobState.DeadLettered);
    assertTrue(dead.job().request().hasBody(), "kept until the TTL is over");
    var dropped = (JobState.DeadLettered) awaitState(s -> s instanceof JobState.DeadLettered d && !d.job().request().hasBody());
    assertTrue(dropped.job().request().generation().messages().isEmpty());
    assertEquals(1, count(JobEvent.JobBodyDropped.class));
    kit.restart();
    assertFalse(((JobState.Submitted) kit.getState()).job().request().hasBody(), "a restart does not bring it back");
    var r = kit.<StatusReply<JobCommand.ReplayResult>>runCommand(to -> new JobCommand.ReplayJob("r-1", "ops", to));
    assertFalse(r.reply().getValue().replayed());
    assertTrue(r.reply().getValue().note().contains("body was dropped"), r.reply().getValue().note());
    assertTrue(r.events().isEmpty());
  }

  @Test
  void aJobThatFinishedBeforeARestartStillDropsItsBodyAfterTheTtl() throws Exception {
    kit = kit(SETTINGS.withBodyTtl(Duration.ofMillis(500)));
    executor.succeeds("done");
    submit("h1");
    awaitState(s -> s instanceof JobState.Succeeded);
    kit.restart();
    var dropped = (JobState.Succeeded) awaitState(s -> s instanceof JobState.Succeeded d && !d.job().request().hasBody());
    assertEquals("done", dropped.result().text(), "the result is kept");
  }

  @Test
  void anAttemptThatTakesTooLongIsCancelledAndCountsAsATimeout() throws Exception {
    kit = kit(new JobSettings(1, Duration.ofMillis(10), Duration.ofMillis(10), 0, Duration.ofMillis(200), Duration.ofMinutes(1), 4,
        Duration.ofHours(1), Duration.ofMinutes(1)));
    executor.hangs();
    submit("h1");
    var dead = (JobState.DeadLettered) awaitState(s -> s instanceof JobState.DeadLettered);
    assertEquals("timeout", dead.attempts().get(0).errorCode());
    assertEquals(executor.startedRuns(), executor.cancelled);
  }

  @Test
  void repeatingASubmissionRepliesTheSameJobWhileAnotherRequestUnderItsIdIsRefused() throws Exception {
    executor.hangs();
    submit("h1");
    var same = kit.<StatusReply<JobView>>runCommand(to -> new JobCommand.SubmitJob(job("h1"), to));
    assertTrue(same.reply().isSuccess());
    assertTrue(same.events().isEmpty());
    var other = kit.<StatusReply<JobView>>runCommand(to -> new JobCommand.SubmitJob(job("h2"), to));
    assertTrue(other.reply().isError());
    assertRefused(ErrorCode.IDEMPOTENCY_CONFLICT, other.reply());
    assertTrue(other.events().isEmpty());
  }

  @Test
  void aWaiterIsAnsweredWhenTheJobFinishes() throws Exception {
    executor.hangs();
    submit("h1");
    awaitState(s -> s instanceof JobState.Running);
    TestProbe<JobView> waiter = testKit.createTestProbe();
    kit.runCommand(new JobCommand.AwaitJob(waiter.getRef()));
    waiter.expectNoMessage(Duration.ofMillis(100));
    executor.open.get(0).complete(AttemptOutcome.succeeded(executor.startedRuns().get(0), "e", "s", "done", "length", null));
    assertEquals(JobView.SUCCEEDED, waiter.receiveMessage().state());
  }

  @Test
  void anUnknownJobHasNothingToShowOrReplay() {
    assertFalse(kit.<JobView>runCommand(JobCommand.GetJob::new).reply().exists());
    var r = kit.<StatusReply<JobCommand.ReplayResult>>runCommand(to -> new JobCommand.ReplayJob("r", "ops", to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.NOT_FOUND, r.reply());
  }
}
