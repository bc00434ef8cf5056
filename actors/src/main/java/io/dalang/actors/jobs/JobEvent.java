package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;

/** What happened to a job, in its journal. */
public sealed interface JobEvent extends CborSerializable {

  /** @param attemptLimit the job may start attempts up to this number */
  record JobSubmitted(Job job, int attemptLimit) implements JobEvent {}

  record AttemptStarted(int attempt, String runId, Instant at) implements JobEvent {}

  /** The attempt failed and will be retried at {@code retryAt}. */
  record AttemptFailed(int attempt, Instant at, String errorCode, String message, String engine, String slotId, Instant retryAt)
      implements JobEvent {}

  /** The attempt succeeded: the job is done. Written at most once per job. */
  record JobSucceeded(int attempt, Instant at, String engine, String slotId, JobResult result) implements JobEvent {}

  /**
   * The attempt failed with a non-retriable error, or was the last one allowed: the job is dead-lettered.
   * {@code tenantId} tags it for the tenant's dead-letter listing (null in events written before it existed).
   */
  record JobDeadLettered(int attempt, Instant at, String errorCode, String message, String engine, String slotId, String tenantId)
      implements JobEvent {}

  /** A finished job's request body was dropped, {@code dalang.jobs.body-ttl} after it ended. */
  record JobBodyDropped(Instant at) implements JobEvent {}

  /** A dead-lettered job was sent back to the queue by {@code actor}, with attempts up to {@code attemptLimit}. */
  record JobReplayed(String replayId, String actor, Instant at, int attemptLimit) implements JobEvent {}
}
