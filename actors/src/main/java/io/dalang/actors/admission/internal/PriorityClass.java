package io.dalang.actors.admission.internal;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.admission.AdmissionSettings;
import java.util.HashMap;
import java.util.Map;

/**
 * The items of one priority class: one FIFO per tenant, a round-robin ring of the tenants that have items
 * (deficit round robin picks among them), and every item in offer order so that DROP_LRU finds the least
 * recently enqueued one in O(1).
 */
final class PriorityClass<T> {
  final Priority priority;
  private final Map<String, TenantQueue<T>> tenants = new HashMap<>();
  private QueuedItem<T> oldest;
  private QueuedItem<T> newest;
  /** The tenant whose turn it is; the one before it in the ring is the tail, where tenants join. */
  private TenantQueue<T> turn;
  private int ringSize;
  private int size;

  PriorityClass(Priority priority) {
    this.priority = priority;
  }

  int size() {
    return size;
  }

  int depth(String tenant) {
    TenantQueue<T> t = tenants.get(tenant);
    return t == null ? 0 : t.size;
  }

  /** The least recently enqueued item, or null when empty. */
  QueuedItem<T> oldest() {
    return oldest;
  }

  QueuedItem<T> add(AdmissionItem<T> item, long seq, AdmissionSettings settings) {
    TenantQueue<T> t = tenants.get(item.tenant());
    if (t == null) {
      t = new TenantQueue<>(item.tenant(), (long) settings.quantum() * settings.weightOf(item.tenant()));
      tenants.put(item.tenant(), t);
      joinRing(t);
    }
    var q = new QueuedItem<>(item, seq, t);
    t.addLast(q);
    q.prevInClass = newest;
    if (newest == null) oldest = q;
    else newest.nextInClass = q;
    newest = q;
    size++;
    return q;
  }

  void remove(QueuedItem<T> q) {
    if (q.prevInClass == null) oldest = q.nextInClass;
    else q.prevInClass.nextInClass = q.nextInClass;
    if (q.nextInClass == null) newest = q.prevInClass;
    else q.nextInClass.prevInClass = q.prevInClass;
    q.prevInClass = null;
    q.nextInClass = null;
    TenantQueue<T> t = q.tenant;
    t.remove(q);
    if (t.size == 0) {
      // Standard DRR: a tenant that runs out of items leaves the ring and forfeits its deficit.
      leaveRing(t);
      tenants.remove(t.tenant);
    }
    size--;
  }

  /**
   * Deficit round robin: the tenant whose turn it is earns its credit once per turn and dispatches its
   * oldest item while the deficit covers the item's cost; then the turn passes on. Charges the cost and returns
   * the item, which the caller then removes. The class must not be empty.
   */
  QueuedItem<T> next() {
    int turnsWithoutDispatch = 0;
    while (true) {
      TenantQueue<T> t = turn;
      if (!t.credited) {
        t.deficit += t.credit;
        t.credited = true;
      }
      QueuedItem<T> head = t.first;
      if (head.item.cost() <= t.deficit) {
        t.deficit -= head.item.cost();
        return head;
      }
      t.credited = false;
      turn = t.ringNext;
      if (++turnsWithoutDispatch == ringSize) {
        skipRoundsWithoutDispatch();
        turnsWithoutDispatch = 0;
      }
    }
  }

  /**
   * A whole round dispatched nothing: every tenant's oldest item costs more than its deficit. Plain DRR would
   * go round again until some deficit covers its item; add the credit of those idle rounds at once instead,
   * so that an item costing far more than its tenant's credit takes O(tenants) work, not O(cost / credit)
   * turns. The next round then dispatches exactly what plain DRR would.
   */
  private void skipRoundsWithoutDispatch() {
    long rounds = Long.MAX_VALUE;
    TenantQueue<T> t = turn;
    for (int i = 0; i < ringSize; i++, t = t.ringNext) {
      long missing = t.first.item.cost() - t.deficit;
      rounds = Math.min(rounds, (missing + t.credit - 1) / t.credit);
    }
    // Each deficit is below an item cost (an int) after a credit, so credit and idle rounds are below 2^31
    // and their product cannot overflow.
    long idleRounds = rounds - 1;
    if (idleRounds <= 0) return;
    for (int i = 0; i < ringSize; i++, t = t.ringNext) t.deficit += idleRounds * t.credit;
  }

  private void joinRing(TenantQueue<T> t) {
    if (turn == null) {
      t.ringPrev = t;
      t.ringNext = t;
      turn = t;
    } else {
      t.ringPrev = turn.ringPrev;
      t.ringNext = turn;
      turn.ringPrev.ringNext = t;
      turn.ringPrev = t;
    }
    ringSize++;
  }

  private void leaveRing(TenantQueue<T> t) {
    if (ringSize == 1) {
      turn = null;
    } else {
      t.ringPrev.ringNext = t.ringNext;
      t.ringNext.ringPrev = t.ringPrev;
      if (turn == t) turn = t.ringNext;
    }
    t.ringPrev = null;
    t.ringNext = null;
    ringSize--;
  }
}
