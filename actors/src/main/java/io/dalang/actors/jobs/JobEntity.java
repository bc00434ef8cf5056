package io.dalang.actors.jobs;

import io.dalang.actors.EntitySupervision;
import io.dalang.actors.NodeRoles;
import io.dalang.actors.jobs.JobCommand.AttachLive;
import io.dalang.actors.jobs.JobCommand.AttemptRunning;
import io.dalang.actors.jobs.JobCommand.AwaitJob;
import io.dalang.actors.jobs.JobCommand.DropBody;
import io.dalang.actors.jobs.JobCommand.GetJob;
import io.dalang.actors.jobs.JobCommand.PassivateIdle;
import io.dalang.actors.jobs.JobCommand.RecordOutcome;
import io.dalang.actors.jobs.JobCommand.ReplayJob;
import io.dalang.actors.jobs.JobCommand.ReplayResult;
import io.dalang.actors.jobs.JobCommand.StartAttempt;
import io.dalang.actors.jobs.JobCommand.SubmitJob;
import io.dalang.actors.jobs.JobCommand.TimeOutAttempt;
import io.dalang.actors.jobs.JobEvent.AttemptFailed;
import io.dalang.actors.jobs.JobEvent.AttemptStarted;
import io.dalang.actors.jobs.JobEvent.JobBodyDropped;
import io.dalang.actors.jobs.JobEvent.JobDeadLettered;
import io.dalang.actors.jobs.JobEvent.JobReplayed;
import io.dalang.actors.jobs.JobEvent.JobSubmitted;
import io.dalang.actors.jobs.JobEvent.JobSucceeded;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One durable job, sharded by job id: a chat or completion request that runs in the background,
 * is retried with backoff, and ends exactly once, succeeded or dead-lettered.
 *
 * <p>The entity runs its own attempts: one actor owns the job's state and its attempt, so nothing else
 * can hold a diverging view of it. An attempt is persisted ({@code AttemptStarted}) before its run
 * starts through the {@link JobExecutor}; the run's outcome comes back as a message and is persisted
 * as the job's success, a failed attempt with the time of the next one, or the job's dead-lettering.
 * Outcomes for any attempt but the open one are ignored, so a job succeeds at most once. An attempt
 * whose tokens reached a client (a streaming request attached to it) is never retried: its failure
 * dead-letters the job, so no client ever sees a second run's tokens after the first one's.
 *
 * <p>Recovery: the entity type uses remember-entities with the event-sourced store (in the same
 * journal), so after a crash every job that was started and not passivated is started again. A job
 * that was {@code Running} then lost its attempt with the process: the attempt is recorded as failed
 * ({@code internal}, retriable: its output never reached a client) and retried. Finished jobs stop
 * themselves after {@code finished-idle}, which also drops them from the remembered set.
 *
 * <p>{@link SubmitJob} replies the job's view once {@link JobSubmitted} is persisted (a repeat with the
 * same request replies the view as it is; another request under the same id is an error);
 * {@link GetJob} replies a view ({@code unknown} for no job); {@link AwaitJob} replies the view once
 * the job is finished; {@link AttachLive} replies the running attempt's live output (once there is one)
 * or the finished job; {@link ReplayJob} replies a {@link ReplayResult} (a no-op unless the job is
 * dead-lettered and the replay id is new).
 */
public final class JobEntity extends EventSourcedBehaviorWithEnforcedReplies<JobCommand, JobEvent, JobState> {

  public static final EntityTypeKey<JobCommand> ENTITY_KEY = EntityTypeKey.create(JobCommand.class, "Job");

  /** Tag of {@link JobDeadLettered} events: the dead-letter queue is read from it. */
  public static final String DEAD_LETTER_TAG = "job-dead-lettered";

  /** The tag of one tenant's {@link JobDeadLettered} events: its dead-letter queue is read without touching other tenants' jobs. */
  public static String deadLetterTag(String tenantId) {
    return DEAD_LETTER_TAG + "|" + tenantId;
  }

  private static final String START_TIMER = "start";
  private static final String ATTEMPT_TIMER = "attempt";
  private static final String BODY_TIMER = "body";

  public static void init(ActorSystem<?> system, JobExecutor executor, JobSettings settings) {
    var sharding = ClusterShardingSettings.create(system).withRememberEntities(true)
        .withRememberEntitiesStoreMode(ClusterShardingSettings.rememberEntitiesStoreModeEventSourced());
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY,
        ctx -> create(ctx.getEntityId(), ctx.getShard(), executor, settings, System::currentTimeMillis, (tenant, c) ->
            ClusterSharding.get(system).entityRefFor(TenantJobsEntity.ENTITY_KEY, tenant).tell(c)))
        .withSettings(sharding).withRole(NodeRoles.CONTROL));
  }

  /** @param shard the shard to ask for passivation, null outside sharding (tests) */
  public static Behavior<JobCommand> create(String jobId, ActorRef<ClusterSharding.ShardCommand> shard, JobExecutor executor,
      JobSettings settings, LongSupplier clock) {
    return create(jobId, shard, executor, settings, clock, (tenant, c) -> {});
  }

  /** @param ledger tells a tenant's {@link TenantJobsEntity} that a job of it finished or is pending again */
  public static Behavior<JobCommand> create(String jobId, ActorRef<ClusterSharding.ShardCommand> shard, JobExecutor executor,
      JobSettings settings, LongSupplier clock, BiConsumer<String, TenantJobsEntity.Command> ledger) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new JobEntity(jobId, ctx, timers, shard, executor, settings, clock, ledger)));
  }

  private final String jobId;
  private final ActorContext<JobCommand> ctx;
  private final TimerScheduler<JobCommand> timers;
  private final ActorRef<ClusterSharding.ShardCommand> shard;
  private final JobExecutor executor;
  private final JobSettings settings;
  private final LongSupplier clock;
  private final BiConsumer<String, TenantJobsEntity.Command> ledger;
  private final List<ActorRef<JobView>> waiters = new ArrayList<>();
  private final List<AttachLive> attachers = new ArrayList<>();
  private JobExecutor.RunningAttempt current;

  private JobEntity(String jobId, ActorContext<JobCommand> ctx, TimerScheduler<JobCommand> timers,
      ActorRef<ClusterSharding.ShardCommand> shard, JobExecutor executor, JobSettings settings, LongSupplier clock,
      BiConsumer<String, TenantJobsEntity.Command> ledger) {
    super(PersistenceId.of(ENTITY_KEY.name(), jobId), EntitySupervision.JOURNAL_BACKOFF);
    this.jobId = jobId;
    this.ctx = ctx;
    this.timers = timers;
    this.shard = shard;
    this.executor = executor;
    this.settings = settings;
    this.clock = clock;
    this.ledger = ledger;
  }

  @Override
  public JobState emptyState() {
    return new JobState.Unsubmitted();
  }

  // Commands

  @Override
  public CommandHandlerWithReply<JobCommand, JobEvent, JobState> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(JobState.Unsubmitted.class)
        .onCommand(SubmitJob.class, (s, c) -> Effect().persist(new JobSubmitted(c.job(), settings.maxAttempts()))
            .thenRun(st -> {
              ctx.cancelReceiveTimeout();
              ctx.getSelf().tell(new StartAttempt(1));
            })
            .thenReply(c.replyTo(), st -> StatusReply.success(view(st))))
        .onCommand(ReplayJob.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no job " + jobId))));
    b.forStateType(JobState.Queued.class)
        .onCommand(StartAttempt.class, this::onStart);
    b.forStateType(JobState.Running.class)
        .onCommand(RecordOutcome.class, this::onOutcome)
        .onCommand(AttemptRunning.class, this::onRunning)
        .onCommand(TimeOutAttempt.class, this::onTimeout);
    b.forStateType(JobState.DeadLettered.class)
        .onCommand(ReplayJob.class, this::onReplay);
    b.forStateType(JobState.Submitted.class)
        .onCommand(SubmitJob.class, this::onResubmit)
        .onCommand(ReplayJob.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(new ReplayResult(false,
            s.replayed(c.replayId()) ? "replay " + c.replayId() + " was applied already; the job is " + view(s).state()
                : "the job is " + view(s).state() + ", not dead-lettered: nothing to replay", view(s)))));
    b.forAnyState()
        .onCommand(GetJob.class, (s, c) -> Effect().reply(c.replyTo(), view(s)))
        .onCommand(AwaitJob.class, this::onAwait)
        .onCommand(AttachLive.class, this::onAttach)
        .onCommand(PassivateIdle.class, this::onIdle)
        .onCommand(DropBody.class, this::onDropBody)
        // Stale: a timer or an outcome of an attempt that is no longer the open one.
        .onCommand(StartAttempt.class, (s, c) -> Effect().noReply())
        .onCommand(RecordOutcome.class, (s, c) -> Effect().noReply())
        .onCommand(AttemptRunning.class, (s, c) -> Effect().noReply())
        .onCommand(TimeOutAttempt.class, (s, c) -> Effect().noReply());
    return b.build();
  }

  private ReplyEffect<JobEvent, JobState> onStart(JobState.Queued s, StartAttempt c) {
    if (c.attempt() != s.lastAttempt() + 1) return Effect().noReply();
    String runId = runId(jobId, c.attempt());
    return Effect().persist(new AttemptStarted(c.attempt(), runId, now())).thenRun(st -> launch((JobState.Running) st)).thenNoReply();
  }

  /** The run id of an attempt: the job's id with {@code run_} for {@code job_}, and the attempt number. */
  static String runId(String jobId, int attempt) {
    return (jobId.startsWith("job_") ? "run_" + jobId.substring(4) : "run_" + jobId) + "-" + attempt;
  }

  private void launch(JobState.Running r) {
    Attempt a = r.current();
    try {
      current = executor.start(r.job(), a.runId());
    } catch (RuntimeException e) {
      DalangError error = e instanceof DalangException d ? d.toError() : DalangError.of(ErrorCode.INTERNAL, "the attempt could not start: " + e);
      ctx.getSelf().tell(new RecordOutcome(a.attempt(), AttemptOutcome.failed(a.runId(), null, null, error)));
      return;
    }
    answerAttachers(a.runId());
    ctx.pipeToSelf(current.outcome(), (o, err) -> new RecordOutcome(a.attempt(), err == null ? o
        : AttemptOutcome.failed(a.runId(), ErrorCode.INTERNAL, "the attempt failed: " + err)));
    ctx.pipeToSelf(current.running(), (v, err) -> new AttemptRunning(a.attempt()));
  }

  /** The attempt's timeout counts from when it got a runner, not from its start: waiting for one is not its fault. */
  private ReplyEffect<JobEvent, JobState> onRunning(JobState.Running s, AttemptRunning c) {
    if (c.attempt() == s.current().attempt() && current != null) {
      timers.startSingleTimer(ATTEMPT_TIMER, new TimeOutAttempt(c.attempt()), settings.attemptTimeout());
    }
    return Effect().noReply();
  }

  private ReplyEffect<JobEvent, JobState> onOutcome(JobState.Running s, RecordOutcome c) {
    if (c.attempt() != s.current().attempt()) return Effect().noReply();
    return recordOutcome(s, c, current != null && current.delivered());
  }

  /** @param delivered tokens of the attempt reached a client: it is not retried */
  private ReplyEffect<JobEvent, JobState> recordOutcome(JobState.Running s, RecordOutcome c, boolean delivered) {
    Attempt a = s.current();
    timers.cancel(ATTEMPT_TIMER);
    current = null;
    AttemptOutcome o = c.outcome();
    Instant now = now();
    if (o.succeeded()) {
      int prompt = o.usage() == null ? 0 : o.usage().promptTokens();
      int completion = o.usage() == null ? 0 : o.usage().completionTokens();
      var result = new JobResult(a.runId(), o.text(), o.finishReason(), prompt, completion, now);
      return Effect().persist(new JobSucceeded(a.attempt(), now, o.engine(), o.slotId(), result)).thenRun(this::finished).thenNoReply();
    }
    DalangError e = o.error();
    if (delivered) {
      e = new DalangError(e.code(), e.message() + " (after tokens had reached a client, so it is not retried)", e.param(), e.retryAfterSeconds());
    } else if (e.code().retriable() && a.attempt() < s.attemptLimit()) {
      Duration delay = RetryPolicy.delay(settings, a.attempt(), e.retryAfterSeconds(), ThreadLocalRandom.current().nextDouble());
      return Effect().persist(new AttemptFailed(a.attempt(), now, e.code().code(), e.message(), o.engine(), o.slotId(), now.plus(delay)))
          .thenRun(st -> schedule((JobState.Queued) st)).thenNoReply();
    }
    return Effect().persist(new JobDeadLettered(a.attempt(), now, e.code().code(), e.message(), o.engine(), o.slotId(), s.job().tenantId()))
        .thenRun(this::finished).thenNoReply();
  }

  private ReplyEffect<JobEvent, JobState> onTimeout(JobState.Running s, TimeOutAttempt c) {
    if (c.attempt() != s.current().attempt()) return Effect().noReply();
    boolean delivered = cancelCurrent();
    return recordOutcome(s, new RecordOutcome(c.attempt(), AttemptOutcome.failed(s.current().runId(), ErrorCode.TIMEOUT,
        "the attempt took longer than " + settings.attemptTimeout().toSeconds() + " s (dalang.jobs.attempt-timeout)")), delivered);
  }

  private ReplyEffect<JobEvent, JobState> onReplay(JobState.DeadLettered s, ReplayJob c) {
    if (!s.job().request().hasBody()) {
      String note = "the job's request body was dropped at " + s.job().request().bodyDroppedAt()
          + " (dalang.jobs.body-ttl after it was dead-lettered); it cannot run again: submit the request anew";
      return Effect().reply(c.replyTo(), StatusReply.success(new ReplayResult(false, note, view(s))));
    }
    if (s.replayed(c.replayId())) {
      return Effect().reply(c.replyTo(), StatusReply.success(new ReplayResult(false,
          "replay " + c.replayId() + " was applied already; the job is dead-lettered again", view(s))));
    }
    int next = s.lastAttempt() + 1;
    return Effect().persist(new JobReplayed(c.replayId(), c.actor(), now(), s.lastAttempt() + settings.maxAttempts()))
        .thenRun(st -> {
          ctx.cancelReceiveTimeout();
          ledger.accept(s.job().tenantId(), new TenantJobsEntity.Readmit(jobId, s.job().request().storedBytes()));
          schedule((JobState.Queued) st);
        })
        .thenReply(c.replyTo(), st -> StatusReply.success(new ReplayResult(true, "queued again for attempt " + next, view(st))));
  }

  private ReplyEffect<JobEvent, JobState> onResubmit(JobState.Submitted s, SubmitJob c) {
    if (s.job().tenantId().equals(c.job().tenantId()) && s.job().requestHash().equals(c.job().requestHash())) {
      return Effect().reply(c.replyTo(), StatusReply.success(view(s)));
    }
    return Effect().reply(c.replyTo(), StatusReply.error(Refusal.text(ErrorCode.IDEMPOTENCY_CONFLICT, "job " + jobId + " exists with another request")));
  }

  private ReplyEffect<JobEvent, JobState> onAwait(JobState s, AwaitJob c) {
    if (s instanceof JobState.Queued || s instanceof JobState.Running) {
      waiters.add(c.replyTo());
      return Effect().noReply();
    }
    return Effect().reply(c.replyTo(), view(s));
  }

  private ReplyEffect<JobEvent, JobState> onAttach(JobState s, AttachLive c) {
    if (!(s instanceof JobState.Queued || s instanceof JobState.Running)) {
      return Effect().reply(c.replyTo(), new JobCommand.Done(view(s)));
    }
    if (s instanceof JobState.Running r && current != null && current.live() != null && !r.current().runId().equals(c.afterRunId())) {
      return Effect().reply(c.replyTo(), new JobCommand.Live(r.current().runId(), current.live()));
    }
    attachers.add(c); // answered when the next attempt starts or the job is finished
    return Effect().noReply();
  }

  private void answerAttachers(String runId) {
    if (current == null || current.live() == null) return;
    var live = new JobCommand.Live(runId, current.live());
    attachers.removeIf(c -> {
      if (runId.equals(c.afterRunId())) return false;
      c.replyTo().tell(live);
      return true;
    });
  }

  private ReplyEffect<JobEvent, JobState> onIdle(JobState s, PassivateIdle c) {
    if (s instanceof JobState.Queued || s instanceof JobState.Running) return Effect().noReply();
    // Stays (and stays remembered) until its body is dropped, so the drop survives a restart.
    if (s instanceof JobState.Submitted sub && sub.job().request().hasBody()) return Effect().noReply();
    if (shard != null) shard.tell(new ClusterSharding.Passivate<>(ctx.getSelf()));
    return Effect().noReply();
  }

  private ReplyEffect<JobEvent, JobState> onDropBody(JobState s, DropBody c) {
    if (!(s instanceof JobState.Succeeded || s instanceof JobState.DeadLettered) || !((JobState.Submitted) s).job().request().hasBody()) {
      return Effect().noReply();
    }
    return Effect().persist(new JobBodyDropped(now())).thenNoReply();
  }

  // Side effects

  /** Drops a finished job's request body {@code body-ttl} after it ended (at once if that is past). */
  private void scheduleBodyDrop(JobState s) {
    Instant ended = s instanceof JobState.Succeeded d ? d.result().completedAt()
        : s instanceof JobState.DeadLettered d ? d.deadLetteredAt() : null;
    if (ended == null || !((JobState.Submitted) s).job().request().hasBody()) return;
    long delay = Math.max(0, ended.plus(settings.bodyTtl()).toEpochMilli() - clock.getAsLong());
    timers.startSingleTimer(BODY_TIMER, new DropBody(), Duration.ofMillis(delay));
  }

  private void schedule(JobState.Queued q) {
    long delay = Math.max(0, q.nextAttemptAt().toEpochMilli() - clock.getAsLong());
    timers.startSingleTimer(START_TIMER, new StartAttempt(q.lastAttempt() + 1), Duration.ofMillis(delay));
  }

  private void finished(JobState s) {
    release(s);
    scheduleBodyDrop(s);
    JobView v = view(s);
    waiters.forEach(w -> w.tell(v));
    waiters.clear();
    attachers.forEach(c -> c.replyTo().tell(new JobCommand.Done(v)));
    attachers.clear();
    ctx.setReceiveTimeout(settings.finishedIdle(), new PassivateIdle());
  }

  /** Cancels the open attempt, if any; true if its tokens had reached a client. */
  private boolean cancelCurrent() {
    boolean delivered = false;
    if (current != null) {
      current.cancel();
      delivered = current.delivered();
    }
    current = null;
    return delivered;
  }

  @Override
  public SignalHandler<JobState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::recovered)
        .onSignal(PostStop.instance(), s -> cancelCurrent())
        .build();
  }

  /**
   * A job found {@code Running} on recovery lost its attempt with the process that ran it: the attempt is
   * failed as retriable. A queued job waits out the rest of its backoff.
   */
  private void recovered(JobState s) {
    if (s instanceof JobState.Running r) {
      Attempt a = r.current();
      ctx.getSelf().tell(new RecordOutcome(a.attempt(), AttemptOutcome.failed(a.runId(), ErrorCode.INTERNAL,
          "interrupted: the node stopped during the attempt; nothing of it reached a client, so it is retried")));
    } else if (s instanceof JobState.Queued q) {
      schedule(q);
    } else {
      release(s); // again: the node may have stopped before the tenant's ledger heard of the end
      scheduleBodyDrop(s);
      ctx.setReceiveTimeout(settings.finishedIdle(), new PassivateIdle());
    }
  }

  /** A finished job no longer counts against its tenant's pending jobs (idempotent). */
  private void release(JobState s) {
    if (s instanceof JobState.Submitted sub) ledger.accept(sub.job().tenantId(), new TenantJobsEntity.Release(jobId));
  }

  private JobView view(JobState s) {
    return JobView.of(jobId, s);
  }

  private Instant now() {
    return Instant.ofEpochMilli(clock.getAsLong());
  }

  // Events

  @Override
  public EventHandler<JobState, JobEvent> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(JobState.Unsubmitted.class)
        .onEvent(JobSubmitted.class, (s, e) -> new JobState.Queued(e.job(), List.of(), e.attemptLimit(), List.of(), e.job().submittedAt()));
    b.forStateType(JobState.Queued.class).onEvent(AttemptStarted.class, JobState.Queued::start);
    b.forStateType(JobState.Running.class)
        .onEvent(AttemptFailed.class, JobState.Running::failed)
        .onEvent(JobSucceeded.class, JobState.Running::succeeded)
        .onEvent(JobDeadLettered.class, JobState.Running::deadLettered);
    b.forStateType(JobState.DeadLettered.class).onEvent(JobReplayed.class, JobState.DeadLettered::replayed)
        .onEvent(JobBodyDropped.class, JobState.DeadLettered::withoutBody);
    b.forStateType(JobState.Succeeded.class).onEvent(JobBodyDropped.class, JobState.Succeeded::withoutBody);
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }

  @Override
  public Set<String> tagsFor(JobEvent event) {
    if (!(event instanceof JobDeadLettered d)) return Set.of();
    return d.tenantId() == null ? Set.of(DEAD_LETTER_TAG) : Set.of(DEAD_LETTER_TAG, deadLetterTag(d.tenantId()));
  }
}
