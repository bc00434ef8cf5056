package io.dalang.actors.jobs;

import io.dalang.actors.EntitySupervision;
import io.dalang.actors.NodeRoles;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One tenant's durable jobs against its {@link JobLimits}, cluster-wide (sharded by tenant id): the jobs
 * it has pending (submitted, not finished) with the request bytes each holds, and its submissions of the
 * last minute.
 *
 * <p>{@link Admit} is asked before a job is persisted and replies an {@link Admission}: granted (with
 * {@link JobAdmitted} persisted), or refused with a typed error naming the limit, persisting nothing.
 * Admitting a job that is pending already grants it again without counting it twice. {@link Release}
 * (the job finished) and {@link Readmit} (a dead-lettered job was replayed: it is pending again, whatever
 * the limits, since an operator sent it) reply nothing and are idempotent. {@link GetJobUsage} replies the counts.
 *
 * <p>Submissions are counted in memory over a sliding minute: a restart forgets them, as a rate limit
 * may. Pending jobs are persisted.
 */
public final class TenantJobsEntity
    extends EventSourcedBehaviorWithEnforcedReplies<TenantJobsEntity.Command, TenantJobsEntity.Event, TenantJobsEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "TenantJobs");
  static final long WINDOW_MS = 60_000;
  /** A full queue frees up as jobs finish; there is no telling when, so clients are asked to wait a little. */
  static final long PENDING_RETRY_AFTER_S = 5;

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), System::currentTimeMillis))
        .withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String tenantId, LongSupplier clock) {
    return new TenantJobsEntity(tenantId, clock);
  }

  private final LongSupplier clock;
  /** When each submission of the last minute was admitted (epoch ms), oldest first. */
  private final ArrayDeque<Long> submissions = new ArrayDeque<>();

  private TenantJobsEntity(String tenantId, LongSupplier clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), tenantId), EntitySupervision.JOURNAL_BACKOFF);
    this.clock = clock;
  }

  // Protocol

  public sealed interface Command extends CborSerializable {}

  /** @param limits resolved: every field set, 0 for no limit */
  public record Admit(String jobId, long bytes, JobLimits limits, ActorRef<Admission> replyTo) implements Command {}

  public record Release(String jobId) implements Command {}

  public record Readmit(String jobId, long bytes) implements Command {}

  public record GetJobUsage(ActorRef<JobUsage> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record JobAdmitted(String jobId, long bytes) implements Event {}

  public record JobReleased(String jobId) implements Event {}

  /** @param jobs the pending jobs: job id → request bytes */
  public record State(Map<String, Long> jobs) implements CborSerializable {
    long bytes() {
      return jobs.values().stream().mapToLong(Long::longValue).sum();
    }

    State with(String jobId, long bytes) {
      var m = new HashMap<>(jobs);
      m.put(jobId, bytes);
      return new State(Map.copyOf(m));
    }

    State without(String jobId) {
      var m = new HashMap<>(jobs);
      m.remove(jobId);
      return new State(Map.copyOf(m));
    }
  }

  /** {@code error} is null when the job may be persisted. */
  public record Admission(DalangError error) implements CborSerializable {
    public boolean granted() {
      return error == null;
    }
  }

  public record JobUsage(int pendingJobs, long pendingBytes, int submissionsLastMinute) implements CborSerializable {}

  @Override
  public State emptyState() {
    return new State(Map.of());
  }

  // Commands

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forAnyState()
        .onCommand(Admit.class, this::onAdmit)
        .onCommand(Release.class, (s, c) -> s.jobs().containsKey(c.jobId())
            ? Effect().persist(new JobReleased(c.jobId())).thenNoReply() : Effect().noReply())
        .onCommand(Readmit.class, (s, c) -> s.jobs().containsKey(c.jobId())
            ? Effect().noReply() : Effect().persist(new JobAdmitted(c.jobId(), c.bytes())).thenNoReply())
        .onCommand(GetJobUsage.class, (s, c) -> Effect().reply(c.replyTo(),
            new JobUsage(s.jobs().size(), s.bytes(), recentSubmissions(clock.getAsLong()))));
    return b.build();
  }

  private ReplyEffect<Event, State> onAdmit(State s, Admit c) {
    if (s.jobs().containsKey(c.jobId())) return Effect().reply(c.replyTo(), new Admission(null));
    long now = clock.getAsLong();
    DalangError refusal = refusal(s, c, now);
    if (refusal != null) return Effect().reply(c.replyTo(), new Admission(refusal));
    submissions.addLast(now);
    return Effect().persist(new JobAdmitted(c.jobId(), c.bytes())).thenReply(c.replyTo(), st -> new Admission(null));
  }

  /** The first limit the job would break, as the error to answer; null if it breaks none. */
  private DalangError refusal(State s, Admit c, long now) {
    JobLimits l = c.limits();
    long perMinute = l.submissionsPerMinute();
    int recent = recentSubmissions(now);
    if (perMinute > 0 && recent >= perMinute) {
      long retry = Math.max(1, (submissions.peekFirst() + WINDOW_MS - now + 999) / 1000);
      return new DalangError(ErrorCode.QUOTA_EXCEEDED, "the tenant submitted " + recent + " jobs in the last minute, its limit"
          + " (job_submissions_per_minute); retry in " + retry + " s", "job_submissions_per_minute", retry);
    }
    if (l.pendingJobs() > 0 && s.jobs().size() >= l.pendingJobs()) {
      return new DalangError(ErrorCode.QUOTA_EXCEEDED, "the tenant has " + s.jobs().size() + " unfinished jobs, its limit"
          + " (pending_jobs); submit more once some have finished", "pending_jobs", PENDING_RETRY_AFTER_S);
    }
    if (l.pendingBytes() > 0 && c.bytes() > l.pendingBytes()) {
      return new DalangError(ErrorCode.INVALID_REQUEST, "the job's request holds " + c.bytes() + " bytes, more than the tenant's"
          + " unfinished jobs may hold together (pending_job_bytes " + l.pendingBytes() + ")", "pending_job_bytes", 0);
    }
    if (l.pendingBytes() > 0 && s.bytes() + c.bytes() > l.pendingBytes()) {
      return new DalangError(ErrorCode.QUOTA_EXCEEDED, "the tenant's unfinished jobs hold " + s.bytes() + " request bytes; this job's "
          + c.bytes() + " more would pass its limit (pending_job_bytes " + l.pendingBytes() + ")", "pending_job_bytes", PENDING_RETRY_AFTER_S);
    }
    return null;
  }

  /** Submissions admitted in the last minute, after forgetting older ones. */
  private int recentSubmissions(long now) {
    while (!submissions.isEmpty() && submissions.peekFirst() + WINDOW_MS <= now) submissions.pollFirst();
    return submissions.size();
  }

  // Events

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forAnyState()
        .onEvent(JobAdmitted.class, (s, e) -> s.with(e.jobId(), e.bytes()))
        .onEvent(JobReleased.class, (s, e) -> s.without(e.jobId()));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
