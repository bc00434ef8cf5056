package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A job's lifecycle: {@code Unsubmitted → Queued ⇄ Running → Succeeded | DeadLettered}, and
 * {@code DeadLettered → Queued} on a replay. Event application lives here, one method per transition.
 */
public sealed interface JobState extends CborSerializable {

  record Unsubmitted() implements JobState {}

  /** A submitted job, whatever its state: the facts every state after submission carries. */
  sealed interface Submitted extends JobState {
    Job job();

    List<Attempt> attempts();

    int attemptLimit();

    List<Replay> replays();

    default int lastAttempt() {
      return attempts().size();
    }

    default boolean replayed(String replayId) {
      return replays().stream().anyMatch(r -> r.replayId().equals(replayId));
    }
  }

  /** Waiting for attempt {@code lastAttempt() + 1}, due at {@code nextAttemptAt}. */
  record Queued(Job job, List<Attempt> attempts, int attemptLimit, List<Replay> replays, Instant nextAttemptAt) implements Submitted {

    Running start(JobEvent.AttemptStarted e) {
      return new Running(job, append(attempts, Attempt.started(e.attempt(), e.runId(), e.at())), attemptLimit, replays);
    }
  }

  /** The last attempt is open. */
  record Running(Job job, List<Attempt> attempts, int attemptLimit, List<Replay> replays) implements Submitted {

    Attempt current() {
      return attempts.get(attempts.size() - 1);
    }

    Queued failed(JobEvent.AttemptFailed e) {
      return new Queued(job, close(e.at(), e.errorCode(), e.message(), e.engine(), e.slotId()), attemptLimit, replays, e.retryAt());
    }

    Succeeded succeeded(JobEvent.JobSucceeded e) {
      return new Succeeded(job, close(e.at(), null, null, e.engine(), e.slotId()), attemptLimit, replays, e.result());
    }

    DeadLettered deadLettered(JobEvent.JobDeadLettered e) {
      return new DeadLettered(job, close(e.at(), e.errorCode(), e.message(), e.engine(), e.slotId()), attemptLimit, replays, e.at());
    }

    private List<Attempt> close(Instant at, String code, String message, String engine, String slotId) {
      var out = new ArrayList<>(attempts);
      out.set(out.size() - 1, current().ended(at, code, message, engine, slotId));
      return List.copyOf(out);
    }
  }

  record Succeeded(Job job, List<Attempt> attempts, int attemptLimit, List<Replay> replays, JobResult result) implements Submitted {

    Succeeded withoutBody(JobEvent.JobBodyDropped e) {
      return new Succeeded(job.withoutBody(e.at()), attempts, attemptLimit, replays, result);
    }
  }

  record DeadLettered(Job job, List<Attempt> attempts, int attemptLimit, List<Replay> replays, Instant deadLetteredAt)
      implements Submitted {

    DeadLettered withoutBody(JobEvent.JobBodyDropped e) {
      return new DeadLettered(job.withoutBody(e.at()), attempts, attemptLimit, replays, deadLetteredAt);
    }

    Queued replayed(JobEvent.JobReplayed e) {
      return new Queued(job, attempts, e.attemptLimit(), append(replays, new Replay(e.replayId(), e.actor(), e.at())), e.at());
    }
  }

  /** One replay of a dead-lettered job: who sent it back to the queue, and when. */
  record Replay(String replayId, String actor, Instant at) implements CborSerializable {}

  private static <T> List<T> append(List<T> list, T item) {
    var out = new ArrayList<>(list);
    out.add(item);
    return List.copyOf(out);
  }
}
