package io.dalang.actors.admission;

/**
 * A job while it is queued, linked into every structure that must find it in O(1): its tenant's FIFO,
 * its priority class's offer-order list (for DROP_LRU) and, when it has a deadline, the deadline heap.
 */
final class QueuedJob<T> {
  final Job<T> job;
  /** Offer order across the whole queue; breaks ties deterministically. */
  final long seq;
  final TenantQueue<T> tenant;
  QueuedJob<T> prevInTenant;
  QueuedJob<T> nextInTenant;
  QueuedJob<T> prevInClass;
  QueuedJob<T> nextInClass;
  /** Position in {@link DeadlineHeap}, -1 when not in it. */
  int heapIndex = -1;

  QueuedJob(Job<T> job, long seq, TenantQueue<T> tenant) {
    this.job = job;
    this.seq = seq;
    this.tenant = tenant;
  }
}
