package io.dalang.actors.breaker;

/**
 * One slot's circuit breaker, a pure state machine: the caller passes the time ({@code System.nanoTime()}
 * in production, any number in tests) and reads the transitions it returns.
 *
 * <p>{@code CLOSED}: runs go through; {@code failureThreshold} engine-side failures in a row open it
 * (a success resets the count). {@code OPEN}: no run goes through for {@code openDuration}; then it is
 * {@code HALF_OPEN}: exactly one probe run goes through; its success closes the breaker, its failure opens
 * it again for another {@code openDuration}; a probe that ended neither way (cancelled, a client error)
 * lets the next run be the probe. Outcomes of runs dispatched before the breaker opened are ignored
 * while it is open or half-open: only the probe decides.
 *
 * <p>Not thread-safe: owned by one actor.
 */
public final class CircuitBreaker {

  /** The state, with its value for the {@code dalang_breaker_state} gauge. */
  public enum State {
    CLOSED(0), HALF_OPEN(1), OPEN(2);

    private final int gauge;

    State(int gauge) {
      this.gauge = gauge;
    }

    public int gauge() {
      return gauge;
    }

    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /** How a run on the slot ended, as far as the slot's health goes. */
  public enum Outcome {
    /** The engine finished the run. */
    SUCCESS,
    /** The engine failed it: {@code engine_failed}, {@code engine_unavailable}, or a timeout while on the slot. */
    FAILURE,
    /** Says nothing about the slot: cancelled, the client's error, a run that never reached the slot. */
    NEUTRAL
  }

  /** A change of state; {@code from != to}. */
  public record Transition(State from, State to) {}

  private final BreakerSettings settings;
  private State state = State.CLOSED;
  private int consecutiveFailures;
  private long openUntilNanos;
  /** The run let through while half-open; null while none is out. */
  private String probe;

  public CircuitBreaker(BreakerSettings settings) {
    this.settings = settings;
  }

  /** The state at {@code now}; an open breaker whose time is up is half-open. */
  public State state(long now) {
    advance(now);
    return state;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  /** Nanoseconds until an open breaker lets a probe through; 0 when it is not open. */
  public long remainingOpenNanos(long now) {
    advance(now);
    return state == State.OPEN ? openUntilNanos - now : 0;
  }

  /** Whether a run may be dispatched to the slot at {@code now}. */
  public boolean allows(long now) {
    advance(now);
    return state == State.CLOSED || (state == State.HALF_OPEN && probe == null);
  }

  /** Moves an open breaker whose time is up to half-open; the transition, or null. */
  public Transition advance(long now) {
    if (state == State.OPEN && now - openUntilNanos >= 0) return move(State.HALF_OPEN);
    return null;
  }

  /** Run {@code runId} was dispatched to the slot: while half-open it is the probe. */
  public void dispatched(String runId, long now) {
    advance(now);
    if (state == State.HALF_OPEN && probe == null) probe = runId;
  }

  /** Run {@code runId} on the slot ended with {@code outcome}; the transition it caused, or null. */
  public Transition record(String runId, Outcome outcome, long now) {
    Transition advanced = advance(now);
    Transition t = switch (state) {
      case CLOSED -> closed(outcome, now);
      case HALF_OPEN -> runId.equals(probe) ? halfOpen(outcome, now) : null;
      case OPEN -> null;
    };
    return t != null ? t : advanced;
  }

  private Transition closed(Outcome outcome, long now) {
    if (outcome == Outcome.SUCCESS) consecutiveFailures = 0;
    if (outcome != Outcome.FAILURE) return null;
    return ++consecutiveFailures >= settings.failureThreshold() ? open(now) : null;
  }

  private Transition halfOpen(Outcome outcome, long now) {
    probe = null;
    return switch (outcome) {
      case SUCCESS -> {
        consecutiveFailures = 0;
        yield move(State.CLOSED);
      }
      case FAILURE -> open(now);
      case NEUTRAL -> null;
    };
  }

  private Transition open(long now) {
    openUntilNanos = now + settings.openDuration().toNanos();
    return move(State.OPEN);
  }

  private Transition move(State to) {
    State from = state;
    state = to;
    probe = null;
    return new Transition(from, to);
  }
}
