package io.dalang.actors.admission.internal;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.admission.AdmissionSettings;
import java.util.Objects;

/**
 * One piece of work waiting in an {@link AdmissionQueue}. Times are on the caller's monotonic clock
 * ({@link System#nanoTime()} or a test clock) and are compared by subtraction, so they may be negative.
 *
 * @param id unique among the items queued at the same time; {@link AdmissionQueue#remove} cancels by it
 * @param tenant whose weight decides the item's share within its priority class
 * @param priority its class; interactive items always go before batch items
 * @param enqueuedNanos when the item arrived; carried for queue-time metrics only (queue order is offer order)
 * @param deadlineNanos the latest time the item may start, or {@link #NO_DEADLINE}
 * @param cost what dispatching the item charges its tenant's deficit, in the units of
 *     {@link AdmissionSettings#quantum()}: 1 for request-count fairness, more to weigh items by size
 * @param payload what the owner dispatches; the queue never looks at it
 */
public record AdmissionItem<T>(String id, String tenant, Priority priority, long enqueuedNanos, long deadlineNanos, int cost, T payload) {
  /** A {@link #deadlineNanos()} that never passes. */
  public static final long NO_DEADLINE = Long.MAX_VALUE;

  public AdmissionItem {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(priority, "priority");
    if (cost < 1) throw new IllegalArgumentException("job " + id + ": cost must be at least 1, was " + cost);
  }

  public boolean hasDeadline() {
    return deadlineNanos != NO_DEADLINE;
  }

  /** True once {@code nowNanos} is past the deadline: an item may still start at its deadline exactly. */
  public boolean expiredAt(long nowNanos) {
    return hasDeadline() && nowNanos - deadlineNanos > 0;
  }
}
