package io.dalang.actors.admission;

import java.util.ArrayList;

/**
 * Binary min-heap of queued jobs by deadline (ties by offer order), indexed so that a job leaving the queue
 * for another reason is removed in O(log n). Only jobs that have a deadline are in it.
 */
final class DeadlineHeap<T> {
  private final ArrayList<QueuedJob<T>> heap = new ArrayList<>();

  boolean isEmpty() {
    return heap.isEmpty();
  }

  QueuedJob<T> first() {
    return heap.get(0);
  }

  void add(QueuedJob<T> q) {
    heap.add(q);
    q.heapIndex = heap.size() - 1;
    siftUp(q.heapIndex);
  }

  void remove(QueuedJob<T> q) {
    int i = q.heapIndex;
    int last = heap.size() - 1;
    q.heapIndex = -1;
    QueuedJob<T> moved = heap.remove(last);
    if (i == last) return;
    set(i, moved);
    siftDown(i);
    siftUp(moved.heapIndex);
  }

  /** Deadlines are compared by subtraction, as {@link System#nanoTime()} values must be. */
  private static boolean before(QueuedJob<?> a, QueuedJob<?> b) {
    long d = a.job.deadlineNanos() - b.job.deadlineNanos();
    return d < 0 || (d == 0 && a.seq < b.seq);
  }

  private void siftUp(int i) {
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      if (!before(heap.get(i), heap.get(parent))) return;
      swap(i, parent);
      i = parent;
    }
  }

  private void siftDown(int i) {
    int n = heap.size();
    while (true) {
      int left = 2 * i + 1;
      if (left >= n) return;
      int smallest = left + 1 < n && before(heap.get(left + 1), heap.get(left)) ? left + 1 : left;
      if (!before(heap.get(smallest), heap.get(i))) return;
      swap(i, smallest);
      i = smallest;
    }
  }

  private void swap(int i, int j) {
    QueuedJob<T> a = heap.get(i);
    set(i, heap.get(j));
    set(j, a);
  }

  private void set(int i, QueuedJob<T> q) {
    heap.set(i, q);
    q.heapIndex = i;
  }
}
