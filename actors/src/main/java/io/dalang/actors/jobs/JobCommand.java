package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;

/** What a {@link JobEntity} is told. The first five come from the edges; the rest the entity sends itself. */
public sealed interface JobCommand extends CborSerializable {

  /** Creates the job; replies its view once {@link JobEvent.JobSubmitted} is persisted. Repeating it is a no-op. */
  record SubmitJob(Job job, ActorRef<StatusReply<JobView>> replyTo) implements JobCommand {}

  record GetJob(ActorRef<JobView> replyTo) implements JobCommand {}

  /** Replies the job's view once it has succeeded or is dead-lettered (at once if it already is). */
  record AwaitJob(ActorRef<JobView> replyTo) implements JobCommand {}

  /** Moves a dead-lettered job back to the queue with a fresh attempt budget; idempotent per {@code replayId}. */
  record ReplayJob(String replayId, String actor, ActorRef<StatusReply<ReplayResult>> replyTo) implements JobCommand {}

  /**
   * Replies a {@link LiveTarget}: the live output of the job's running attempt (other than attempt run
   * {@code afterRunId}, which the asker saw end), as soon as there is one, or the job once it is finished.
   */
  record AttachLive(String afterRunId, ActorRef<LiveTarget> replyTo) implements JobCommand {}

  /** The backoff is over: start attempt {@code attempt}. Stale ones are ignored. */
  record StartAttempt(int attempt) implements JobCommand {}

  /** Attempt {@code attempt} ended; stale and repeated ones are ignored. */
  record RecordOutcome(int attempt, AttemptOutcome outcome) implements JobCommand {}

  /** Attempt {@code attempt} got a runner: its timeout starts now. Stale ones are ignored. */
  record AttemptRunning(int attempt) implements JobCommand {}

  record TimeOutAttempt(int attempt) implements JobCommand {}

  /** The finished job's {@code body-ttl} is over: drop its request body. */
  record DropBody() implements JobCommand {}

  /** A finished (or never submitted) job's entity had nothing to do for {@code finished-idle}: stop it. */
  record PassivateIdle() implements JobCommand {}

  /** Where a client attaches to a job: the running attempt's live output, or the finished (or unknown) job. */
  sealed interface LiveTarget extends CborSerializable {}

  record Live(String runId, ActorRef<LiveAttempt.Command> output) implements LiveTarget {}

  record Done(JobView job) implements LiveTarget {}

  /** @param replayed false when nothing changed: the job was not dead-lettered, or this replay id was applied already */
  record ReplayResult(boolean replayed, String note, JobView job) implements CborSerializable {}
}
