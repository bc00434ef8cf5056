package io.dalang.actors.jobs;

import java.time.Duration;

/**
 * When a failed attempt is tried again: exponential backoff from {@code min-backoff}, doubling per
 * failed attempt up to {@code max-backoff}, plus up to {@code jitter} of it at random. An error that
 * says when retrying can succeed ({@code Retry-After}) is waited for, up to {@code max-backoff}.
 */
public final class RetryPolicy {
  private RetryPolicy() {}

  /**
   * @param failedAttempt the attempt that just failed, from 1
   * @param retryAfterSeconds what the error asked for, 0 for nothing
   * @param random a number in [0, 1)
   */
  public static Duration delay(JobSettings s, int failedAttempt, long retryAfterSeconds, double random) {
    long min = s.minBackoff().toMillis();
    long max = Math.max(min, s.maxBackoff().toMillis());
    int doublings = Math.min(Math.max(0, failedAttempt - 1), 30);
    long base = Math.min(max, min << doublings);
    base = Math.max(base, Math.min(max, retryAfterSeconds * 1000));
    return Duration.ofMillis(base + (long) (base * s.jitter() * random));
  }
}
