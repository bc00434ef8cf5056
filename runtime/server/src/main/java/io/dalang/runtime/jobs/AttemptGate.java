package io.dalang.runtime.jobs;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;

/**
 * At most {@code permits} attempts at once; the others wait without a blocked thread. Waiters queue per
 * tenant and a freed permit goes to the tenants in turn (round-robin), so one tenant's backlog delays
 * another tenant's attempt by at most one attempt per tenant ahead of it, never by the whole backlog.
 */
final class AttemptGate {
  private final int permits;
  /** Tenants with waiters, in the order they get the next permit; each tenant's waiters in arrival order. */
  private final LinkedHashMap<String, ArrayDeque<CompletableFuture<Void>>> waiting = new LinkedHashMap<>();
  private int inUse;

  AttemptGate(int permits) {
    this.permits = Math.max(1, permits);
  }

  /** Completes when the caller holds a permit; it must {@link #release} it, unless it {@link #abandon}s first. */
  synchronized CompletableFuture<Void> acquire(String tenantId) {
    if (inUse < permits) {
      inUse++;
      return CompletableFuture.completedFuture(null);
    }
    var f = new CompletableFuture<Void>();
    waiting.computeIfAbsent(tenantId, t -> new ArrayDeque<>()).add(f);
    return f;
  }

  void release() {
    CompletableFuture<Void> next;
    synchronized (this) {
      next = nextInTurn();
      if (next == null) {
        inUse--;
        return;
      }
    }
    next.complete(null); // the permit passes to the next waiter
  }

  /** The first waiter of the tenant whose turn it is; that tenant goes to the back of the line. */
  private CompletableFuture<Void> nextInTurn() {
    Iterator<java.util.Map.Entry<String, ArrayDeque<CompletableFuture<Void>>>> it = waiting.entrySet().iterator();
    if (!it.hasNext()) return null;
    var first = it.next();
    it.remove();
    var next = first.getValue().poll();
    if (!first.getValue().isEmpty()) waiting.put(first.getKey(), first.getValue());
    return next;
  }

  /** Stops waiting for a permit; false if it was granted already (then it must be released). */
  synchronized boolean abandon(CompletableFuture<Void> acquired) {
    for (var it = waiting.values().iterator(); it.hasNext(); ) {
      var queue = it.next();
      if (queue.remove(acquired)) {
        if (queue.isEmpty()) it.remove();
        return true;
      }
    }
    return false;
  }

  synchronized int waiting() {
    return waiting.values().stream().mapToInt(ArrayDeque::size).sum();
  }
}
