package io.dalang.actors.run;

import io.dalang.actors.TimeSource;
import io.dalang.protocols.generation.GenerationEvent;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The engine-side half of a {@link RunActor}: takes a run's events on the engine's thread and puts
 * {@code Started} and tokens straight into the response stream, so a token crosses one thread hand-off
 * on its way to the client instead of one more through the run actor's mailbox. The terminal event
 * goes to the run actor, which records telemetry and closes the stream; it is handed over after the
 * last token was offered, on the same thread, so it can never overtake one.
 *
 * <p>Single writer: only the thread that delivers the run's events writes the counters; the run actor
 * reads them (volatile) for its stall check and, after the terminal event, for the run's record.
 */
final class RunRelay implements Consumer<GenerationEvent> {
  private final RunOutput out;
  private final ActorRef<RunActor.Command> run;
  private final TimeSource time;
  private volatile boolean stopped;
  /** Replaced by the relay of a fallback target: not even its terminal event counts any more. */
  private volatile boolean retired;
  private volatile boolean started;
  private volatile long startedNanos;
  private volatile int engineRestarts;
  private volatile GenerationEvent.Started startedEvent;
  private volatile long queueMs;
  private volatile long firstTokenNanos;
  private volatile long lastEventNanos;
  private volatile long lastTokenNanos;
  private volatile int tokens;

  RunRelay(RunOutput out, ActorRef<RunActor.Command> run, TimeSource time) {
    this.out = out;
    this.run = run;
    this.time = time;
  }

  @Override
  public void accept(GenerationEvent e) {
    if (retired) return;
    if (e.isTerminal()) {
      run.tell(new RunActor.Terminal(e));
      return;
    }
    long now = time.nanoTime();
    lastEventNanos = now;
    if (e instanceof GenerationEvent.Started s) {
      queueMs = s.queuedMs();
      engineRestarts = s.engineRestarts();
      startedEvent = s;
      startedNanos = now;
      started = true;
    } else if (e instanceof GenerationEvent.Token || e instanceof GenerationEvent.ToolCallDelta) {
      if (tokens == 0) firstTokenNanos = now;
      lastTokenNanos = now;
      tokens = tokens + 1; // single writer
    }
    if (stopped) return;
    if (!out.offer(e)) {
      // The client reads slower than the engine writes and the stream's buffer is full.
      stopped = true;
      run.tell(RunActor.ClientTooSlow.INSTANCE);
    }
  }

  /** Stops relaying: the run is cancelling or over; later events are only counted. */
  void stop() {
    stopped = true;
  }

  /** The run moved to another target: a late event of this attempt (e.g. a dying engine's) is dropped. */
  void retire() {
    retired = true;
    stopped = true;
  }

  boolean started() {
    return started;
  }

  /** When {@code Started} arrived; meaningful once {@link #started()}. */
  long startedNanos() {
    return startedNanos;
  }

  /** The engine instance's restart count from {@code Started}; meaningful once {@link #started()}. */
  int engineRestarts() {
    return engineRestarts;
  }

  /** The engine's {@code Started} (with the determinism signals its engine actor stamped); null until {@link #started()}. */
  GenerationEvent.Started startedEvent() {
    return startedEvent;
  }

  long queueMs() {
    return queueMs;
  }

  long firstTokenNanos() {
    return firstTokenNanos;
  }

  long lastTokenNanos() {
    return lastTokenNanos;
  }

  long lastEventNanos() {
    return lastEventNanos;
  }

  int tokens() {
    return tokens;
  }
}
