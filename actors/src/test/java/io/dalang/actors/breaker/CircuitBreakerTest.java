package io.dalang.actors.breaker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.breaker.CircuitBreaker.Outcome;
import io.dalang.actors.breaker.CircuitBreaker.State;
import io.dalang.actors.breaker.CircuitBreaker.Transition;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The breaker's state machine on a clock the test moves by hand. */
class CircuitBreakerTest {
  static final long OPEN_NANOS = Duration.ofSeconds(30).toNanos();
  final CircuitBreaker breaker = new CircuitBreaker(new BreakerSettings(3, Duration.ofSeconds(30)));

  private void fail(int times, long now) {
    for (int i = 0; i < times; i++) breaker.record("run-f" + i, Outcome.FAILURE, now);
  }

  @Test
  void opensAfterTheThresholdOfConsecutiveFailuresAndNotBefore() {
    fail(2, 0);
    assertEquals(State.CLOSED, breaker.state(0));
    assertTrue(breaker.allows(0));
    assertEquals(new Transition(State.CLOSED, State.OPEN), breaker.record("run-3", Outcome.FAILURE, 0));
    assertFalse(breaker.allows(1));
    assertEquals(OPEN_NANOS - 1, breaker.remainingOpenNanos(1));
  }

  @Test
  void aSuccessResetsTheCountButNeutralOutcomesDoNot() {
    fail(2, 0);
    breaker.record("ok", Outcome.SUCCESS, 0);
    fail(2, 0);
    assertEquals(State.CLOSED, breaker.state(0), "two failures after a success");
    breaker.record("cancelled", Outcome.NEUTRAL, 0);
    assertEquals(new Transition(State.CLOSED, State.OPEN), breaker.record("third", Outcome.FAILURE, 0));
  }

  @Test
  void becomesHalfOpenAfterTheOpenDurationAndLetsExactlyOneProbeThrough() {
    fail(3, 0);
    assertFalse(breaker.allows(OPEN_NANOS - 1));
    assertEquals(new Transition(State.OPEN, State.HALF_OPEN), breaker.advance(OPEN_NANOS));
    assertTrue(breaker.allows(OPEN_NANOS));
    breaker.dispatched("probe", OPEN_NANOS);
    assertFalse(breaker.allows(OPEN_NANOS), "the probe is out: nothing else goes through");
    assertEquals(State.HALF_OPEN, breaker.state(OPEN_NANOS + 1));
  }

  @Test
  void aSuccessfulProbeClosesIt() {
    fail(3, 0);
    breaker.dispatched("probe", OPEN_NANOS);
    assertNull(breaker.record("a run from before", Outcome.SUCCESS, OPEN_NANOS), "only the probe decides");
    assertEquals(new Transition(State.HALF_OPEN, State.CLOSED), breaker.record("probe", Outcome.SUCCESS, OPEN_NANOS + 5));
    assertTrue(breaker.allows(OPEN_NANOS + 5));
    assertEquals(0, breaker.consecutiveFailures());
  }

  @Test
  void aFailedProbeOpensItAgainForAnotherOpenDuration() {
    fail(3, 0);
    breaker.dispatched("probe", OPEN_NANOS);
    long t = OPEN_NANOS + 100;
    assertEquals(new Transition(State.HALF_OPEN, State.OPEN), breaker.record("probe", Outcome.FAILURE, t));
    assertFalse(breaker.allows(t + OPEN_NANOS - 1));
    assertTrue(breaker.allows(t + OPEN_NANOS));
  }

  @Test
  void aProbeThatEndsNeutrallyLetsTheNextRunProbe() {
    fail(3, 0);
    breaker.dispatched("probe", OPEN_NANOS);
    assertNull(breaker.record("probe", Outcome.NEUTRAL, OPEN_NANOS));
    assertTrue(breaker.allows(OPEN_NANOS));
    assertEquals(State.HALF_OPEN, breaker.state(OPEN_NANOS));
  }

  @Test
  void failuresOfRunsDispatchedBeforeItOpenedDoNotExtendTheOpenTime() {
    fail(3, 0);
    assertNull(breaker.record("late", Outcome.FAILURE, OPEN_NANOS / 2));
    assertTrue(breaker.allows(OPEN_NANOS));
  }
}
