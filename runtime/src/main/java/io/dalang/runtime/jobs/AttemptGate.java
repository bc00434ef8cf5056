package io.dalang.runtime.jobs;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/** At most {@code permits} attempts at once; the others wait in arrival order, without a blocked thread. */
final class AttemptGate {
  private final int permits;
  private final ArrayDeque<CompletableFuture<Void>> waiting = new ArrayDeque<>();
  private int inUse;

  AttemptGate(int permits) {
    this.permits = Math.max(1, permits);
  }

  /** Completes when the caller holds a permit; it must {@link #release} it, unless it {@link #abandon}s first. */
  synchronized CompletableFuture<Void> acquire() {
    if (inUse < permits) {
      inUse++;
      return CompletableFuture.completedFuture(null);
    }
    var f = new CompletableFuture<Void>();
    waiting.add(f);
    return f;
  }

  void release() {
    CompletableFuture<Void> next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) {
        inUse--;
        return;
      }
    }
    next.complete(null); // the permit passes to the next waiter
  }

  /** Stops waiting for a permit; false if it was granted already (then it must be released). */
  synchronized boolean abandon(CompletableFuture<Void> acquired) {
    return waiting.remove(acquired);
  }

  synchronized int waiting() {
    return waiting.size();
  }
}
