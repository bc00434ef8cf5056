package io.dalang.runtime.sim;

import java.util.ArrayDeque;

/**
 * The simulated engine server's queue: at most {@code capacity} requests run at once, the rest wait
 * in arrival order, as vLLM's scheduler holds requests beyond its sequences. {@link #running()} and
 * {@link #waiting()} are its {@code vllm:num_requests_running} and {@code vllm:num_requests_waiting}.
 */
final class SimAdmission {
  private final int capacity;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;

  SimAdmission(int capacity) {
    this.capacity = capacity;
  }

  /** Runs {@code start} now if a sequence is free, else when one is. */
  void admit(Runnable start) {
    synchronized (this) {
      if (running >= capacity) {
        waiting.add(start);
        return;
      }
      running++;
    }
    start.run();
  }

  /** A running request ended: its sequence goes to the longest waiting one. */
  void release() {
    Runnable next;
    synchronized (this) {
      next = waiting.poll();
      if (next == null) running--;
    }
    if (next != null) next.run();
  }

  /** Takes a request that has not started out of the queue; false if it was not waiting (it started). */
  synchronized boolean withdraw(Runnable start) {
    return waiting.remove(start);
  }

  synchronized int running() {
    return running;
  }

  synchronized int waiting() {
    return waiting.size();
  }
}
