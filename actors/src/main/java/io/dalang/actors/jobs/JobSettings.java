package io.dalang.actors.jobs;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.jobs} keys: the retry policy of durable jobs, how long their idempotency keys live,
 * how many attempts a node runs at once, each tenant's default job limits and how long request bodies are kept.
 *
 * @param maxAttempts attempts a job gets (and gets again on each replay) before it is dead-lettered
 * @param minBackoff delay before the second attempt; it doubles with every failed attempt
 * @param maxBackoff cap of the delay, and of a {@code Retry-After} an error asks for
 * @param jitter random share added to each delay (0.2: up to 20 % more), so failed jobs spread out
 * @param attemptTimeout longest an attempt may run, counted from when it got a runner
 * @param finishedIdle a finished job's entity stops after this long without messages
 * @param maxConcurrentAttempts attempts this node runs at once; more wait for a runner
 * @param idempotencyTtl how long an {@code Idempotency-Key} names its job
 * @param syncWaitTimeout longest a synchronous request with an {@code Idempotency-Key} waits for its job
 * @param maxReplayTokens tokens of a running attempt kept to replay to a client that attaches late
 * @param limits each tenant's job limits unless its quotas override them (every field set; 0: no limit)
 * @param bodyTtl how long a finished job keeps its request body
 */
public record JobSettings(int maxAttempts, Duration minBackoff, Duration maxBackoff, double jitter, Duration attemptTimeout,
    Duration finishedIdle, int maxConcurrentAttempts, Duration idempotencyTtl, Duration syncWaitTimeout, int maxReplayTokens,
    JobLimits limits, Duration bodyTtl) {

  static final int DEFAULT_MAX_REPLAY_TOKENS = 8192;
  static final JobLimits NO_LIMITS = new JobLimits(0L, 0L, 0L);
  static final Duration DEFAULT_BODY_TTL = Duration.ofHours(24);

  public JobSettings(int maxAttempts, Duration minBackoff, Duration maxBackoff, double jitter, Duration attemptTimeout,
      Duration finishedIdle, int maxConcurrentAttempts, Duration idempotencyTtl, Duration syncWaitTimeout) {
    this(maxAttempts, minBackoff, maxBackoff, jitter, attemptTimeout, finishedIdle, maxConcurrentAttempts, idempotencyTtl, syncWaitTimeout,
        DEFAULT_MAX_REPLAY_TOKENS, NO_LIMITS, DEFAULT_BODY_TTL);
  }

  public JobSettings withBodyTtl(Duration ttl) {
    return new JobSettings(maxAttempts, minBackoff, maxBackoff, jitter, attemptTimeout, finishedIdle, maxConcurrentAttempts, idempotencyTtl,
        syncWaitTimeout, maxReplayTokens, limits, ttl);
  }

  public static JobSettings from(Config c) {
    Config j = c.getConfig("dalang.jobs");
    return new JobSettings(j.getInt("max-attempts"), j.getDuration("min-backoff"), j.getDuration("max-backoff"),
        j.getDouble("jitter"), j.getDuration("attempt-timeout"), j.getDuration("finished-idle"),
        j.getInt("max-concurrent-attempts"), j.getDuration("idempotency-ttl"), j.getDuration("sync-wait-timeout"),
        j.getInt("max-replay-tokens"), new JobLimits(j.getLong("max-pending-jobs"), j.getBytes("max-pending-bytes"),
            j.getLong("max-submissions-per-minute")), j.getDuration("body-ttl"));
  }
}
