package io.dalang.actors.jobs;

import java.util.concurrent.CompletionStage;

/**
 * Runs one attempt of a job. The actor module only knows this interface; the runtime implements it
 * with its run launcher (admission, quotas, placement, engine, telemetry), so a job's attempt is an
 * ordinary run of the job's tenant.
 */
@FunctionalInterface
public interface JobExecutor {

  /** Starts {@code job}'s request as run {@code runId}; the attempt's outcome must always complete. */
  RunningAttempt start(Job job, String runId);

  /** An attempt under way. */
  interface RunningAttempt {
    /** Completes with the outcome; a failed stage counts as an internal (retriable) failure. */
    CompletionStage<AttemptOutcome> outcome();

    /**
     * Completes when the attempt holds a runner and its run starts; its timeout counts from then, so time
     * spent waiting behind other tenants' attempts never times it out. Never completes if it is cancelled first.
     */
    default CompletionStage<Void> running() {
      return java.util.concurrent.CompletableFuture.completedFuture(null);
    }

    /** Stops the run at the engine (timeout, the job's actor stopping); the outcome then no longer matters. */
    void cancel();

    /** The attempt's live output for clients to attach to, or null if this executor offers none. */
    default org.apache.pekko.actor.typed.ActorRef<LiveAttempt.Command> live() {
      return null;
    }

    /**
     * Whether any of the attempt's tokens reached a client; final once the outcome completed or after
     * {@link #cancel}. Such an attempt is never retried.
     */
    default boolean delivered() {
      return false;
    }
  }
}
