package io.dalang.actors.quota;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * One tenant's use of its quotas, cluster-wide (sharded by tenant id): requests in the current UTC
 * minute, tokens on the current UTC day, runs in flight. Every run asks {@link Acquire} before it is
 * queued and reports its tokens with {@link Settle} when it ends.
 *
 * <p>Counters change in memory on every run and are made durable by a checkpoint event at most once
 * per {@code checkpoint} interval (1 s by default) when they changed, with snapshots so the journal
 * stays short: a restart keeps the day's token count and the minute's request count, less at most the
 * last interval's. Runs in flight are not persisted: after a restart the runs of this node are gone,
 * and runs on other nodes end up released by {@link Settle} (an unknown run is ignored).
 *
 * <p>Limits: {@code requests_per_minute} and {@code tokens_per_day} are checked against the counts so
 * far (a run's own tokens are counted when it ends, so the last run of a day may overshoot by its
 * size); {@code concurrent_jobs} against the runs in flight. A refusal is {@code quota_exceeded} with
 * the quota in {@code param} and the seconds until it resets.
 */
public final class TenantUsage extends EventSourcedBehavior<TenantUsage.Command, TenantUsage.Event, TenantUsage.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "TenantUsage");

  public static void init(ActorSystem<?> system, Duration checkpoint) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), checkpoint, System::currentTimeMillis)).withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String tenantId, Duration checkpoint, LongSupplier clock) {
    return Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Checkpoint.INSTANCE, checkpoint);
      return new TenantUsage(tenantId, clock);
    });
  }

  // Protocol

  public interface Command extends CborSerializable {}

  /** A run asks to start under {@code quotas} (0: no limit). */
  public record Acquire(String runId, TenantEntity.Quotas quotas, ActorRef<Decision> replyTo) implements Command {}

  /** A run ended having used {@code tokens} (prompt + completion); idempotent per run. */
  public record Settle(String runId, long tokens) implements Command {}

  public record GetUsage(ActorRef<Usage> replyTo) implements Command {}

  private enum Checkpoint implements Command { INSTANCE }

  /** {@code error} is null when the run may start. */
  public record Decision(String runId, DalangError error) implements CborSerializable {
    public boolean granted() {
      return error == null;
    }
  }

  /** The counts now, and when each window resets. */
  public record Usage(long requestsThisMinute, Instant minuteResetsAt, long tokensToday, Instant dayResetsAt, int inFlight)
      implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  /** The counters as they were at a checkpoint. */
  public record UsageCheckpointed(long minuteStartMs, long requests, long day, long tokens) implements Event {}

  public record State(long minuteStartMs, long requests, long day, long tokens) implements CborSerializable {}

  private static final long MINUTE_MS = 60_000L;
  private static final long DAY_MS = 86_400_000L;

  private final LongSupplier clock;
  // The live counters: changed by every run, made durable by checkpoints.
  private long minuteStartMs;
  private long requests;
  private long day;
  private long tokens;
  private boolean dirty;
  private final Set<String> inFlight = new HashSet<>();
  private final Set<String> settled = new HashSet<>();

  private TenantUsage(String tenantId, LongSupplier clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), tenantId), EntitySupervision.JOURNAL_BACKOFF);
    this.clock = clock;
  }

  @Override
  public State emptyState() {
    return new State(0, 0, 0, 0);
  }

  @Override
  public SignalHandler<State> signalHandler() {
    return newSignalHandlerBuilder().onSignal(RecoveryCompleted.instance(), s -> {
      minuteStartMs = s.minuteStartMs();
      requests = s.requests();
      day = s.day();
      tokens = s.tokens();
    }).build();
  }

  /** Moves the windows to now: a new minute or day starts from zero. */
  private void roll(long now) {
    long minute = now - Math.floorMod(now, MINUTE_MS);
    if (minute != minuteStartMs) {
      minuteStartMs = minute;
      requests = 0;
      dirty = true;
    }
    long today = Math.floorDiv(now, DAY_MS);
    if (today != day) {
      day = today;
      tokens = 0;
      dirty = true;
    }
  }

  @Override
  public CommandHandler<Command, Event, State> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Acquire.class, (s, c) -> {
          long now = clock.getAsLong();
          roll(now);
          DalangError refused = check(c.quotas(), now);
          if (refused == null) {
            requests++;
            inFlight.add(c.runId());
            dirty = true;
          }
          c.replyTo().tell(new Decision(c.runId(), refused));
          return Effect().none();
        })
        .onCommand(Settle.class, (s, c) -> {
          inFlight.remove(c.runId());
          if (c.tokens() > 0 && settled.add(c.runId())) {
            roll(clock.getAsLong());
            tokens += c.tokens();
            dirty = true;
          }
          if (settled.size() > 10_000) settled.clear(); // only guards against a repeated Settle soon after the first
          return Effect().none();
        })
        .onCommand(GetUsage.class, (s, c) -> {
          long now = clock.getAsLong();
          roll(now);
          c.replyTo().tell(new Usage(requests, Instant.ofEpochMilli(minuteStartMs + MINUTE_MS), tokens,
              Instant.ofEpochMilli((day + 1) * DAY_MS), inFlight.size()));
          return Effect().none();
        })
        .onCommand(Checkpoint.class, (s, c) -> {
          if (!dirty) return Effect().none();
          dirty = false;
          return Effect().persist(new UsageCheckpointed(minuteStartMs, requests, day, tokens));
        })
        .build();
  }

  private DalangError check(TenantEntity.Quotas q, long now) {
    if (q == null) return null;
    if (q.requestsPerMinute() > 0 && requests >= q.requestsPerMinute()) {
      return refuse("requests_per_minute", q.requestsPerMinute() + " requests per minute", minuteStartMs + MINUTE_MS, now);
    }
    if (q.tokensPerDay() > 0 && tokens >= q.tokensPerDay()) {
      return refuse("tokens_per_day", q.tokensPerDay() + " tokens per day (" + tokens + " used)", (day + 1) * DAY_MS, now);
    }
    if (q.concurrentJobs() > 0 && inFlight.size() >= q.concurrentJobs()) {
      return new DalangError(ErrorCode.QUOTA_EXCEEDED, "quota concurrent_jobs exceeded: " + q.concurrentJobs()
          + " runs in flight at once; one must end first", "concurrent_jobs", 1);
    }
    return null;
  }

  private static DalangError refuse(String quota, String limit, long resetsAtMs, long now) {
    long seconds = Math.max(1, (resetsAtMs - now + 999) / 1000);
    return new DalangError(ErrorCode.QUOTA_EXCEEDED, "quota " + quota + " exceeded: " + limit + "; resets at "
        + Instant.ofEpochMilli(resetsAtMs) + " (in " + seconds + " s)", quota, seconds);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(UsageCheckpointed.class, (s, e) -> new State(e.minuteStartMs(), e.requests(), e.day(), e.tokens()))
        .build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2).withDeleteEventsOnSnapshot();
  }
}
