package io.dalang.actors.admission.internal;

import io.dalang.actors.admission.OverflowPolicy;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.admission.AdmissionSettings;
import io.dalang.protocols.error.ErrorCode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The bounded queue of one pool: decides which items may wait for an engine, which one goes next, and which
 * leave unserved. A pure, deterministic data structure: time comes in as arguments, nothing runs by itself,
 * and the same calls give the same answers. Not thread-safe; one actor owns it.
 *
 * <p><b>Admission</b> ({@link #offer(AdmissionItem, long, long)}), checked in this order:
 * <ol>
 *   <li>An item whose id is already queued is rejected with {@code invalid_request}.
 *   <li>Deadline: an item with a deadline is rejected with {@code timeout} ("cannot start before its deadline")
 *       when {@code now + estimatedWait > deadline}. The queue cannot know service times, so the owner, which
 *       sees completions, passes its estimate of how long this item would wait; {@link #offer(AdmissionItem, long)}
 *       passes 0 and so refuses only items whose deadline has already passed. No retry hint: the same deadline
 *       will not become reachable.
 *   <li>Tenant share: at most {@link AdmissionSettings#tenantShare()} items of one tenant, all priorities
 *       together; one more is rejected with {@code capacity_exhausted} whatever the policy (a tenant over its
 *       share never evicts), with {@code retryAfterMs} as below. So one tenant's flood fills its share, not
 *       the queue, and other tenants still get in.
 *   <li>Capacity: at most {@link AdmissionSettings#capacity()} items, all tenants and priorities together.
 *       Under {@link OverflowPolicy#REJECT} an item that finds the queue full is rejected with
 *       {@code capacity_exhausted} and {@code retryAfterMs} = the estimated wait rounded up to milliseconds
 *       (by then the work queued ahead of it has started; 0 when no estimate was given). Under
 *       {@link OverflowPolicy#DROP_LRU} the victim is the least recently enqueued item of the lowest priority
 *       class present, evicted only when the incoming item's priority is strictly higher than that class; an
 *       incoming item of equal or lower priority is rejected as under REJECT. Evicting an equally urgent item
 *       would break an admission already granted to gain nothing in priority, and would let a tenant that
 *       floods the queue push out other tenants' items.
 * </ol>
 * "Least recently enqueued" and FIFO mean offer order, not {@link AdmissionItem#enqueuedNanos()}.
 *
 * <p><b>Dispatch</b> ({@link #poll}): first every item whose deadline has passed ({@code now > deadline}) is
 * removed and returned in {@link PollResult#expired()}; then the next item comes from the highest-priority
 * class that has one, so batch items wait while any interactive item does. Within a class tenants share by
 * deficit round robin (Shreedhar and Varghese, 1995): tenants with items form a ring; at the start of its turn
 * a tenant earns {@code quantum × weight} cost units, dispatches its items in FIFO order while its deficit
 * covers the next item's {@link AdmissionItem#cost()}, keeps the remainder, and passes the turn on; a tenant that runs
 * out of items leaves the ring with its deficit reset, and one that gets an item joins at the tail. Hence, with
 * unit costs, a tenant dispatches at most {@code quantum × weight} items per turn; a tenant that gets an item
 * while it has none queued in that class sees it dispatched after at most {@code Σ quantum × weight_j} items
 * of the other tenants j (each may also spend a carried deficit below its next item's cost when costs vary);
 * and while tenants stay backlogged each one's share of the cost dispatched approaches its weight over the
 * sum of their weights. Cost is a field of the item rather than a fixed 1 so that the owner may weigh items by
 * size (say, tokens requested); an item costing more than its tenant's credit waits {@code ⌈cost / credit⌉}
 * rounds.
 *
 * <p><b>Cost</b> per operation, n items queued, t tenants with items in the class polled: {@link #offer} O(1)
 * expected, plus O(log n) for an item with a deadline; {@link #remove} and each eviction likewise; {@link #poll}
 * O(log n) per expired item, plus O(1) to pick the next item when no item costs more than its tenant's credit
 * (the turn passes at most once), else up to O(t): rounds in which nobody could dispatch are credited in
 * one pass, never looped through. {@link #size}, {@link #capacity} and {@link #depth} O(1). Per queued item:
 * one small node and one map entry; per tenant with items in a class, one small queue.
 */
public final class AdmissionQueue<T> {
  private static final OfferResult<?> ADMITTED = new OfferResult.Admitted<>();
  private static final PollResult<?> NOTHING = new PollResult<>(Optional.empty(), List.of());

  private final AdmissionSettings settings;
  /** Indexed by {@link Priority#ordinal()}: dispatch order. */
  private final List<PriorityClass<T>> classes = new ArrayList<>();
  private final Map<String, QueuedItem<T>> byId = new HashMap<>();
  private final DeadlineHeap<T> deadlines = new DeadlineHeap<>();
  private long nextSeq;
  private int size;

  public AdmissionQueue(AdmissionSettings settings) {
    this.settings = settings;
    for (Priority p : Priority.values()) classes.add(new PriorityClass<>(p));
  }

  /** Offers an item with no estimate of its wait: only a deadline already passed makes it impossible. */
  public OfferResult<T> offer(AdmissionItem<T> item, long nowNanos) {
    return offer(item, nowNanos, 0);
  }

  /**
   * Admits, rejects or admits by evicting, as the class comment describes.
   *
   * @param estimatedWaitNanos the owner's estimate of how long this item would wait before it starts, at least 0
   */
  public OfferResult<T> offer(AdmissionItem<T> item, long nowNanos, long estimatedWaitNanos) {
    if (estimatedWaitNanos < 0) throw new IllegalArgumentException("estimatedWaitNanos must not be negative, was " + estimatedWaitNanos);
    if (byId.containsKey(item.id())) {
      return new OfferResult.Rejected<>(ErrorCode.INVALID_REQUEST, "job " + item.id() + " is already queued", 0);
    }
    if (item.hasDeadline() && item.deadlineNanos() - nowNanos < estimatedWaitNanos) {
      return new OfferResult.Rejected<>(ErrorCode.TIMEOUT, "job " + item.id() + " cannot start before its deadline ("
          + millis(item.deadlineNanos() - nowNanos) + " ms left, estimated wait " + millis(estimatedWaitNanos) + " ms)", 0);
    }
    if (settings.tenantShare() < settings.capacity() && depth(item.tenant()) >= settings.tenantShare()) {
      return capacityExhausted("tenant " + item.tenant() + " already has its share of the queue queued ("
          + settings.tenantShare() + " jobs, dalang.admission.tenant-share)", estimatedWaitNanos);
    }
    AdmissionItem<T> victim = null;
    if (size >= settings.capacity()) {
      String full = "the admission queue is full (" + settings.capacity() + " jobs)";
      if (settings.policy() == OverflowPolicy.REJECT) return capacityExhausted(full, estimatedWaitNanos);
      PriorityClass<T> lowest = lowestNonEmpty();
      if (lowest.priority.compareTo(item.priority()) <= 0) {
        return capacityExhausted(full + " and holds no job of lower priority than " + item.priority(), estimatedWaitNanos);
      }
      QueuedItem<T> oldest = lowest.oldest();
      unlink(oldest);
      victim = oldest.item;
    }
    var q = classes.get(item.priority().ordinal()).add(item, nextSeq++, settings);
    byId.put(item.id(), q);
    if (item.hasDeadline()) deadlines.add(q);
    size++;
    return victim == null ? admitted() : new OfferResult.AdmittedEvicting<>(victim);
  }

  /** Removes the items whose deadline has passed, then takes the next item to dispatch, if any. */
  public PollResult<T> poll(long nowNanos) {
    List<AdmissionItem<T>> expired = expire(nowNanos);
    AdmissionItem<T> next = null;
    for (PriorityClass<T> c : classes) {
      if (c.size() > 0) {
        QueuedItem<T> q = c.next();
        unlink(q);
        next = q.item;
        break;
      }
    }
    if (next == null && expired.isEmpty()) return nothing();
    return new PollResult<>(Optional.ofNullable(next), expired);
  }

  /**
   * Removes and returns the items whose deadline has passed, earliest deadline first. {@link #poll} does this
   * itself; an owner may also call it before {@link #offer} so that dead items do not hold places.
   */
  public List<AdmissionItem<T>> expire(long nowNanos) {
    List<AdmissionItem<T>> expired = null;
    while (!deadlines.isEmpty() && deadlines.first().item.expiredAt(nowNanos)) {
      QueuedItem<T> q = deadlines.first();
      unlink(q);
      if (expired == null) expired = new ArrayList<>();
      expired.add(q.item);
    }
    return expired == null ? List.of() : Collections.unmodifiableList(expired);
  }

  /** Cancels a queued item: removes and returns it, or empty when no item with that id is queued. */
  public Optional<AdmissionItem<T>> remove(String itemId) {
    QueuedItem<T> q = byId.get(itemId);
    if (q == null) return Optional.empty();
    unlink(q);
    return Optional.of(q.item);
  }

  /** Removes and returns every queued item (in no particular order), e.g. when the owner stops. */
  public List<AdmissionItem<T>> drain() {
    var all = new ArrayList<>(byId.values());
    var items = new ArrayList<AdmissionItem<T>>(all.size());
    for (QueuedItem<T> q : all) {
      unlink(q);
      items.add(q.item);
    }
    return items;
  }

  /** Whether the item is queued. */
  public boolean contains(String itemId) {
    return byId.containsKey(itemId);
  }

  /** Items queued, all tenants and priorities. */
  public int size() {
    return size;
  }

  /** Items queued for {@code tenant}, all priorities. */
  public int depth(String tenant) {
    int depth = 0;
    for (PriorityClass<T> c : classes) depth += c.depth(tenant);
    return depth;
  }

  public int capacity() {
    return settings.capacity();
  }

  public AdmissionSettings settings() {
    return settings;
  }

  private void unlink(QueuedItem<T> q) {
    byId.remove(q.item.id());
    if (q.heapIndex >= 0) deadlines.remove(q);
    classes.get(q.item.priority().ordinal()).remove(q);
    size--;
  }

  private PriorityClass<T> lowestNonEmpty() {
    for (int i = classes.size() - 1; i >= 0; i--) {
      if (classes.get(i).size() > 0) return classes.get(i);
    }
    throw new IllegalStateException("no priority class holds a job, yet the queue is full");
  }

  private OfferResult<T> capacityExhausted(String reason, long estimatedWaitNanos) {
    return new OfferResult.Rejected<>(ErrorCode.CAPACITY_EXHAUSTED, reason, ceilMillis(estimatedWaitNanos));
  }

  private static long ceilMillis(long nanos) {
    return nanos / 1_000_000 + (nanos % 1_000_000 > 0 ? 1 : 0);
  }

  private static long millis(long nanos) {
    return nanos / 1_000_000;
  }

  // One shared instance each: neither holds an item, so the type argument is never used.
  @SuppressWarnings("unchecked")
  private static <T> OfferResult<T> admitted() {
    return (OfferResult<T>) ADMITTED;
  }

  @SuppressWarnings("unchecked")
  private static <T> PollResult<T> nothing() {
    return (PollResult<T>) NOTHING;
  }
}
