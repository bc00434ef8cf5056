package io.dalang.actors.admission.internal;

/**
 * An item while it is queued, linked into every structure that must find it in O(1): its tenant's FIFO,
 * its priority class's offer-order list (for DROP_LRU) and, when it has a deadline, the deadline heap.
 */
final class QueuedItem<T> {
  final AdmissionItem<T> item;
  /** Offer order across the whole queue; breaks ties deterministically. */
  final long seq;
  final TenantQueue<T> tenant;
  QueuedItem<T> prevInTenant;
  QueuedItem<T> nextInTenant;
  QueuedItem<T> prevInClass;
  QueuedItem<T> nextInClass;
  /** Position in {@link DeadlineHeap}, -1 when not in it. */
  int heapIndex = -1;

  QueuedItem(AdmissionItem<T> item, long seq, TenantQueue<T> tenant) {
    this.item = item;
    this.seq = seq;
    this.tenant = tenant;
  }
}
