package io.dalang.actors.run;

import io.dalang.protocols.generation.GenerationEvent;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Where a run's events go on their way to the client: the first one as a future (the edge decides on
 * it between an error status and a 200 stream), the rest as a stream that the edge materializes
 * inside its own response, so that a token offered here is one hand-off away from the socket; no
 * intermediate stream runs in between.
 *
 * <p>Events that come before the edge attached its stream wait here, at most {@code capacity} of
 * them, like events the client has not read yet. {@link #offer} says {@code false} when that buffer is
 * full: the client is too slow (or never read) and the run gives up.
 *
 * <p>One writer at a time (the engine's thread for tokens, then the run actor for the end; or the actor
 * that follows a durable job's live output for a client).
 */
public final class RunOutput {
  private final int capacity;
  private final CompletableFuture<GenerationEvent> first = new CompletableFuture<>();
  private volatile BoundedSourceQueue<GenerationEvent> queue;
  private final ArrayDeque<GenerationEvent> pending = new ArrayDeque<>();
  private boolean completed;
  private Throwable failure;
  private volatile String servedBy;
  private volatile String servedModel;

  public RunOutput(int capacity) {
    if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1");
    this.capacity = capacity;
  }

  /** The run's first event: {@code Started}, or the terminal one if the run ended before it started. */
  public CompletionStage<GenerationEvent> first() {
    return first;
  }

  /**
   * Which target serves the run ({@code pool:<id>} or {@code remote:<name>}), for the edge's
   * {@code x-dalang-served-by}: final once {@link #first()} completed with {@code Started} (a run moves to a
   * fallback target only before that); null before the run was sent anywhere.
   */
  public String servedBy() {
    return servedBy;
  }

  /**
   * The model that answers the run: the one it asked for, or the substitute a fallback rule accepted for
   * it (then the response's {@code model} says so); null before the run was sent anywhere. Final when
   * {@link #servedBy()} is.
   */
  public String servedModel() {
    return servedModel;
  }

  void servedBy(String target, String model) {
    servedBy = target;
    servedModel = model;
  }

  /** The events after the first; materialize it once. */
  public Source<GenerationEvent, NotUsed> rest() {
    return Source.<GenerationEvent>queue(capacity).mapMaterializedValue(q -> {
      attach(q);
      return NotUsed.getInstance();
    });
  }

  /** Passes an event on; {@code false} if the client has {@code capacity} events unread. */
  public boolean offer(GenerationEvent e) {
    if (!first.isDone() && first.complete(e)) return true;
    BoundedSourceQueue<GenerationEvent> q = queue;
    if (q == null) {
      synchronized (this) {
        if (queue == null) {
          if (completed || failure != null) return true;
          if (pending.size() >= capacity) return false;
          pending.add(e);
          return true;
        }
        q = queue;
      }
    }
    return !(q.offer(e) instanceof QueueOfferResult.Dropped$);
  }

  /** Ends the stream after the events offered so far. */
  public void complete() {
    BoundedSourceQueue<GenerationEvent> q;
    synchronized (this) {
      q = queue;
      if (q == null) {
        completed = true;
        return;
      }
    }
    try {
      q.complete();
    } catch (IllegalStateException alreadyClosed) {
      // the client went away: nothing to end
    }
  }

  /** Ends the stream with an error: the client sees the connection end without a final event. */
  public void fail(Throwable cause) {
    BoundedSourceQueue<GenerationEvent> q;
    synchronized (this) {
      q = queue;
      if (q == null) {
        failure = cause;
        return;
      }
    }
    try {
      q.fail(cause);
    } catch (IllegalStateException alreadyClosed) {
      // already ended
    }
  }

  private void attach(BoundedSourceQueue<GenerationEvent> q) {
    synchronized (this) {
      if (queue != null) throw new IllegalStateException("a run's output stream can be materialized once");
      for (GenerationEvent e : pending) q.offer(e); // pending never exceeds the queue's capacity
      pending.clear();
      if (failure != null) q.fail(failure);
      else if (completed) q.complete();
      queue = q;
    }
  }
}
