package io.dalang.actors;

import java.time.Instant;

/**
 * The actors' one clock: wall-clock time for what is recorded or compared across nodes (epoch
 * milliseconds, instants), and a monotonic nanosecond source for durations and deadlines measured on
 * this node. Actors take it from their settings or {@code create}; it is {@link #SYSTEM} outside tests,
 * where a manual one makes stall and deadline timing deterministic.
 *
 * <p>Timers (Pekko's scheduler) still fire on real time: a test advances this clock, then lets the
 * timer that checks it fire.
 */
public interface TimeSource {

  /** Wall-clock time, as {@link System#currentTimeMillis()}. */
  long epochMillis();

  /** Monotonic time for intervals on this node, as {@link System#nanoTime()}: compare by subtraction. */
  long nanoTime();

  /** Wall-clock time as an instant. */
  default Instant instant() {
    return Instant.ofEpochMilli(epochMillis());
  }

  /** The system's clocks. */
  TimeSource SYSTEM = new TimeSource() {
    @Override
    public long epochMillis() {
      return System.currentTimeMillis();
    }

    @Override
    public long nanoTime() {
      return System.nanoTime();
    }

    @Override
    public Instant instant() {
      return Instant.now();
    }

    @Override
    public String toString() {
      return "TimeSource.SYSTEM";
    }
  };
}
