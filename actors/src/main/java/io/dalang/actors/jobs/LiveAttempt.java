package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The live output of one job attempt, so that clients can attach to a running keyed request: every
 * {@link Subscribe}r gets the events produced so far (replayed from {@code Started}) and then the rest
 * as they come, until the attempt's terminal event.
 *
 * <p>The replay buffer holds at most {@code maxReplayTokens} tokens; beyond that it is dropped and a new
 * subscriber is {@link Refused} with {@code replay_unavailable} (never handed a partial stream), while
 * those already attached go on receiving.
 *
 * <p>A failed attempt is retried by its job only if none of its tokens reached a client: the
 * {@link Delivery} records, atomically, whether a token was sent to a subscriber, or that the attempt
 * was sealed (finished or cancelled) before one was. A failed attempt that delivered nothing tells its
 * subscribers {@link AttemptEnded}: they ask the job again for its next attempt or its result. After
 * {@link Finish} the actor answers late subscribers for a short while, then stops; a subscriber that
 * finds it stopped (watch) also asks the job again.
 *
 * <p>{@link Finish} replies {@link Finished} with whether tokens reached a client.
 */
public final class LiveAttempt {
  private LiveAttempt() {}

  /** How long a finished attempt still answers subscribers that were told about it before it finished. */
  static final Duration LINGER = Duration.ofSeconds(5);

  public sealed interface Command extends CborSerializable {}

  /** A non-terminal event of the attempt's run (from the executor, on the same node). */
  public record Publish(GenerationEvent event) implements Command {}

  public record Subscribe(ActorRef<Update> subscriber) implements Command {}

  /** The run ended with {@code terminal} (End, or Failed also for a run that never started or was cancelled). */
  public record Finish(GenerationEvent terminal, ActorRef<Finished> replyTo) implements Command {}

  public record Finished(boolean delivered) implements CborSerializable {}

  record SubscriberGone(ActorRef<Update> subscriber) implements Command {}

  enum Stop implements Command { INSTANCE }

  /** What a subscriber receives. */
  public sealed interface Update extends CborSerializable {}

  /** Events of attempt {@code runId} in order: the replay first, then one message per live event. */
  public record Events(String runId, List<GenerationEvent> events) implements Update {}

  /** Attempt {@code runId} failed before any of its tokens reached a client: ask the job what comes next. */
  public record AttemptEnded(String runId) implements Update {}

  /** This attempt cannot be replayed to a new subscriber. */
  public record Refused(DalangError error) implements Update {}

  /** Whether an attempt's tokens reached a client; once sealed without, they never will. Thread-safe. */
  public static final class Delivery {
    private static final int OPEN = 0;
    private static final int DELIVERED = 1;
    private static final int SEALED = 2;
    private final AtomicInteger state = new AtomicInteger(OPEN);

    /** True if a token may go to a client (and from now on the attempt counts as delivered). */
    boolean deliver() {
      return state.compareAndSet(OPEN, DELIVERED) || state.get() == DELIVERED;
    }

    /** Closes the gate; true if tokens had reached a client before. */
    public boolean seal() {
      state.compareAndSet(OPEN, SEALED);
      return delivered();
    }

    public boolean delivered() {
      return state.get() == DELIVERED;
    }
  }

  /** @param maxReplayTokens tokens kept for replay ({@code dalang.jobs.max-replay-tokens}) */
  public static Behavior<Command> create(String runId, Delivery delivery, int maxReplayTokens) {
    return Behaviors.setup(ctx -> new Live(ctx, runId, delivery, maxReplayTokens).running());
  }

  private static final class Live {
    private final ActorContext<Command> ctx;
    private final String runId;
    private final Delivery delivery;
    private final int maxReplayTokens;
    private final List<GenerationEvent> replay = new ArrayList<>();
    private final Set<ActorRef<Update>> subscribers = new HashSet<>();
    private int tokens;
    private boolean overflowed;
    private GenerationEvent terminal;

    Live(ActorContext<Command> ctx, String runId, Delivery delivery, int maxReplayTokens) {
      this.ctx = ctx;
      this.runId = runId;
      this.delivery = delivery;
      this.maxReplayTokens = maxReplayTokens;
    }

    Behavior<Command> running() {
      return Behaviors.receive(Command.class)
          .onMessage(Publish.class, this::onPublish)
          .onMessage(Subscribe.class, this::onSubscribe)
          .onMessage(Finish.class, this::onFinish)
          .onMessage(SubscriberGone.class, m -> {
            subscribers.remove(m.subscriber());
            return Behaviors.same();
          })
          .onMessage(Stop.class, m -> Behaviors.stopped())
          .build();
    }

    private Behavior<Command> onPublish(Publish m) {
      GenerationEvent e = m.event();
      if (terminal != null || e.isTerminal()) return Behaviors.same();
      if (e instanceof GenerationEvent.Token) tokens++;
      if (!overflowed) {
        if (tokens > maxReplayTokens) {
          overflowed = true;
          replay.clear();
        } else {
          replay.add(e);
        }
      }
      if (!subscribers.isEmpty() && (!(e instanceof GenerationEvent.Token) || delivery.deliver())) {
        var update = new Events(runId, List.of(e));
        subscribers.forEach(s -> s.tell(update));
      }
      return Behaviors.same();
    }

    private Behavior<Command> onSubscribe(Subscribe m) {
      ActorRef<Update> s = m.subscriber();
      if (terminal instanceof GenerationEvent.Failed && !delivery.delivered()) {
        // Failed before any token reached a client: the job retries it or records its failure.
        s.tell(new AttemptEnded(runId));
        return Behaviors.same();
      }
      if (overflowed) {
        s.tell(new Refused(DalangError.of(ErrorCode.REPLAY_UNAVAILABLE, "the running request produced more than " + maxReplayTokens
            + " tokens (dalang.jobs.max-replay-tokens), too many to replay to another client; send it again once it is finished"
            + " to get the stored result, or without \"stream\" to wait for it")));
        return Behaviors.same();
      }
      if (terminal == null && tokens > 0 && !delivery.deliver()) {
        s.tell(new AttemptEnded(runId)); // cancelled (sealed) before a token reached a client
        return Behaviors.same();
      }
      var events = new ArrayList<>(replay);
      if (terminal != null) {
        events.add(terminal);
      } else {
        subscribers.add(s);
        ctx.watchWith(s, new SubscriberGone(s));
      }
      s.tell(new Events(runId, events));
      return Behaviors.same();
    }

    private Behavior<Command> onFinish(Finish m) {
      if (terminal != null) {
        m.replyTo().tell(new Finished(delivery.delivered()));
        return Behaviors.same();
      }
      terminal = m.terminal();
      boolean delivered = delivery.seal();
      Update last = terminal instanceof GenerationEvent.End || delivered ? new Events(runId, List.of(terminal)) : new AttemptEnded(runId);
      subscribers.forEach(s -> s.tell(last));
      subscribers.clear();
      m.replyTo().tell(new Finished(delivered));
      ctx.scheduleOnce(LINGER, ctx.getSelf(), Stop.INSTANCE);
      return Behaviors.same();
    }
  }
}
