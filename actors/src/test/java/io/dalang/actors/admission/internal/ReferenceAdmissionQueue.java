package io.dalang.actors.admission.internal;

import io.dalang.actors.admission.OverflowPolicy;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.admission.AdmissionSettings;
import io.dalang.protocols.error.ErrorCode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The admission rules written as plainly as possible, for property tests to compare {@link AdmissionQueue}
 * with: one list of jobs in offer order, linear scans, and deficit round robin that really goes round, idle
 * rounds included. Results are described as strings (see {@link #describe}) so that a mismatch reads well.
 * Assumes clock values that do not wrap.
 */
final class ReferenceAdmissionQueue<T> {
  private static final class Tenant {
    final String name;
    long deficit;
    boolean credited;

    Tenant(String name) {
      this.name = name;
    }
  }

  private final AdmissionSettings settings;
  private final List<AdmissionItem<T>> jobs = new ArrayList<>();
  /** Per priority class, the tenants with jobs in ring order; element 0 has the turn. */
  private final List<List<Tenant>> rings = new ArrayList<>();

  ReferenceAdmissionQueue(AdmissionSettings settings) {
    this.settings = settings;
    for (int i = 0; i < Priority.values().length; i++) rings.add(new ArrayList<>());
  }

  static String describe(OfferResult<?> r) {
    if (r instanceof OfferResult.AdmittedEvicting<?> e) return "admitted evicting " + e.victim().id();
    if (r instanceof OfferResult.Rejected<?> x) return "rejected " + x.code() + " retry after " + x.retryAfterMs() + " ms";
    return "admitted";
  }

  String offer(AdmissionItem<T> job, long now, long estimatedWait) {
    if (jobs.stream().anyMatch(j -> j.id().equals(job.id()))) return "rejected " + ErrorCode.INVALID_REQUEST + " retry after 0 ms";
    if (job.deadlineNanos() != AdmissionItem.NO_DEADLINE && now + estimatedWait > job.deadlineNanos()) {
      return "rejected " + ErrorCode.TIMEOUT + " retry after 0 ms";
    }
    String outcome = "admitted";
    if (jobs.size() >= settings.capacity()) {
      String full = "rejected " + ErrorCode.CAPACITY_EXHAUSTED + " retry after " + (estimatedWait + 999_999) / 1_000_000 + " ms";
      if (settings.policy() == OverflowPolicy.REJECT) return full;
      Priority lowest = jobs.stream().map(AdmissionItem::priority).max(Comparator.naturalOrder()).orElseThrow();
      if (lowest.ordinal() <= job.priority().ordinal()) return full;
      AdmissionItem<T> victim = jobs.stream().filter(j -> j.priority() == lowest).findFirst().orElseThrow();
      take(victim);
      outcome = "admitted evicting " + victim.id();
    }
    jobs.add(job);
    var ring = rings.get(job.priority().ordinal());
    if (ring.stream().noneMatch(t -> t.name.equals(job.tenant()))) ring.add(new Tenant(job.tenant()));
    return outcome;
  }

  /** The job to dispatch, and before it the expired jobs, earliest deadline first. */
  PollResult<T> poll(long now) {
    List<AdmissionItem<T>> expired = jobs.stream()
        .filter(j -> j.deadlineNanos() != AdmissionItem.NO_DEADLINE && now > j.deadlineNanos())
        .sorted(Comparator.comparingLong(AdmissionItem<T>::deadlineNanos))  // stable: offer order breaks ties
        .toList();
    expired.forEach(this::take);
    for (Priority p : Priority.values()) {
      var ring = rings.get(p.ordinal());
      while (!ring.isEmpty()) {
        Tenant t = ring.get(0);
        if (!t.credited) {
          t.deficit += (long) settings.quantum() * settings.weightOf(t.name);
          t.credited = true;
        }
        AdmissionItem<T> head = jobs.stream().filter(j -> j.priority() == p && j.tenant().equals(t.name)).findFirst().orElseThrow();
        if (head.cost() <= t.deficit) {
          t.deficit -= head.cost();
          take(head);
          return new PollResult<>(Optional.of(head), expired);
        }
        t.credited = false;
        ring.add(ring.remove(0));
      }
    }
    return new PollResult<>(Optional.empty(), expired);
  }

  Optional<AdmissionItem<T>> remove(String id) {
    var found = jobs.stream().filter(j -> j.id().equals(id)).findFirst();
    found.ifPresent(this::take);
    return found;
  }

  int size() {
    return jobs.size();
  }

  int depth(String tenant) {
    return (int) jobs.stream().filter(j -> j.tenant().equals(tenant)).count();
  }

  private void take(AdmissionItem<T> job) {
    jobs.remove(job);
    boolean more = jobs.stream().anyMatch(j -> j.priority() == job.priority() && j.tenant().equals(job.tenant()));
    if (!more) rings.get(job.priority().ordinal()).removeIf(t -> t.name.equals(job.tenant()));
  }
}
