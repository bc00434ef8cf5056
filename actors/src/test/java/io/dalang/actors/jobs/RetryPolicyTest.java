package io.dalang.actors.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  static final JobSettings S = new JobSettings(5, Duration.ofSeconds(1), Duration.ofSeconds(30), 0.5, Duration.ofMinutes(1),
      Duration.ofMinutes(1), 4, Duration.ofHours(24), Duration.ofMinutes(5));

  @Test
  void theDelayDoublesWithEveryFailedAttemptUpToTheCap() {
    assertEquals(1_000, RetryPolicy.delay(S, 1, 0, 0).toMillis());
    assertEquals(2_000, RetryPolicy.delay(S, 2, 0, 0).toMillis());
    assertEquals(16_000, RetryPolicy.delay(S, 5, 0, 0).toMillis());
    assertEquals(30_000, RetryPolicy.delay(S, 6, 0, 0).toMillis());
    assertEquals(30_000, RetryPolicy.delay(S, 60, 0, 0).toMillis());
  }

  @Test
  void jitterAddsAtMostItsShareOfTheDelay() {
    assertEquals(1_499, RetryPolicy.delay(S, 1, 0, 0.999).toMillis());
    assertEquals(2_500, RetryPolicy.delay(S, 2, 0, 0.5).toMillis());
  }

  @Test
  void aRetryAfterTheErrorAsksForIsWaitedForUpToTheCap() {
    assertEquals(7_000, RetryPolicy.delay(S, 1, 7, 0).toMillis());
    assertEquals(30_000, RetryPolicy.delay(S, 1, 86_400, 0).toMillis());
  }
}
