package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;
import java.util.List;

/**
 * A job as the edges show it.
 *
 * @param state {@code unknown} (no such job), {@code queued}, {@code running}, {@code succeeded} or {@code dead_lettered}
 * @param result the result when succeeded, else null
 * @param nextAttemptAt when a queued job's next attempt is due, else null
 * @param deadLetteredAt when a dead-lettered job was dead-lettered, else null
 */
public record JobView(String jobId, String state, Job job, List<Attempt> attempts, int attemptLimit, List<JobState.Replay> replays,
    JobResult result, Instant nextAttemptAt, Instant deadLetteredAt) implements CborSerializable {

  public static final String UNKNOWN = "unknown";
  public static final String QUEUED = "queued";
  public static final String RUNNING = "running";
  public static final String SUCCEEDED = "succeeded";
  public static final String DEAD_LETTERED = "dead_lettered";

  public static JobView of(String jobId, JobState s) {
    if (s instanceof JobState.Queued q) return of(jobId, QUEUED, q, null, q.nextAttemptAt(), null);
    if (s instanceof JobState.Running r) return of(jobId, RUNNING, r, null, null, null);
    if (s instanceof JobState.Succeeded d) return of(jobId, SUCCEEDED, d, d.result(), null, null);
    if (s instanceof JobState.DeadLettered d) return of(jobId, DEAD_LETTERED, d, null, null, d.deadLetteredAt());
    return new JobView(jobId, UNKNOWN, null, List.of(), 0, List.of(), null, null, null);
  }

  private static JobView of(String jobId, String state, JobState.Submitted s, JobResult result, Instant next, Instant dead) {
    return new JobView(jobId, state, s.job(), s.attempts(), s.attemptLimit(), s.replays(), result, next, dead);
  }

  public boolean exists() {
    return job != null;
  }

  public boolean finished() {
    return SUCCEEDED.equals(state) || DEAD_LETTERED.equals(state);
  }

  /** Whether {@code tenantId} may see the job: only its own tenant does. */
  public boolean visibleTo(String tenantId) {
    return exists() && job.tenantId().equals(tenantId);
  }

  /** The last attempt, or null before the first one started. */
  public Attempt lastAttempt() {
    return attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
  }
}
