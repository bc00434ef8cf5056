package io.dalang.actors.admission.internal;

import java.util.ArrayList;

/**
 * Binary min-heap of queued items by deadline (ties by offer order), indexed so that an item leaving the queue
 * for another reason is removed in O(log n). Only items that have a deadline are in it.
 */
final class DeadlineHeap<T> {
  private final ArrayList<QueuedItem<T>> heap = new ArrayList<>();

  boolean isEmpty() {
    return heap.isEmpty();
  }

  QueuedItem<T> first() {
    return heap.get(0);
  }

  void add(QueuedItem<T> q) {
    heap.add(q);
    q.heapIndex = heap.size() - 1;
    siftUp(q.heapIndex);
  }

  void remove(QueuedItem<T> q) {
    int i = q.heapIndex;
    int last = heap.size() - 1;
    q.heapIndex = -1;
    QueuedItem<T> moved = heap.remove(last);
    if (i == last) return;
    set(i, moved);
    siftDown(i);
    siftUp(moved.heapIndex);
  }

  /** Deadlines are compared by subtraction, as {@link System#nanoTime()} values must be. */
  private static boolean before(QueuedItem<?> a, QueuedItem<?> b) {
    long d = a.item.deadlineNanos() - b.item.deadlineNanos();
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
    QueuedItem<T> a = heap.get(i);
    set(i, heap.get(j));
    set(j, a);
  }

  private void set(int i, QueuedItem<T> q) {
    heap.set(i, q);
    q.heapIndex = i;
  }
}
