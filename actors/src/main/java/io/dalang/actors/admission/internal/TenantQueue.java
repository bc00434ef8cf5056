package io.dalang.actors.admission.internal;

/**
 * One tenant's items in one priority class, oldest first, with its deficit-round-robin state. It exists only
 * while it holds an item, and then it is in its class's round-robin ring.
 */
final class TenantQueue<T> {
  final String tenant;
  /** Cost units this tenant earns per round: quantum × weight. */
  final long credit;
  QueuedItem<T> first;
  QueuedItem<T> last;
  int size;
  /** Cost units earned and not yet spent; reset whenever the queue empties (it is discarded then). */
  long deficit;
  /** True once this turn's credit has been added, so that one turn earns one credit however many polls it spans. */
  boolean credited;
  TenantQueue<T> ringPrev;
  TenantQueue<T> ringNext;

  TenantQueue(String tenant, long credit) {
    this.tenant = tenant;
    this.credit = credit;
  }

  void addLast(QueuedItem<T> q) {
    q.prevInTenant = last;
    if (last == null) first = q;
    else last.nextInTenant = q;
    last = q;
    size++;
  }

  void remove(QueuedItem<T> q) {
    if (q.prevInTenant == null) first = q.nextInTenant;
    else q.prevInTenant.nextInTenant = q.nextInTenant;
    if (q.nextInTenant == null) last = q.prevInTenant;
    else q.nextInTenant.prevInTenant = q.prevInTenant;
    q.prevInTenant = null;
    q.nextInTenant = null;
    size--;
  }
}
