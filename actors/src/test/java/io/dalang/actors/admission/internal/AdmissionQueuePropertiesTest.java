package io.dalang.actors.admission.internal;

import io.dalang.actors.admission.OverflowPolicy;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.admission.AdmissionSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.statistics.StatisticsReport;

/**
 * Properties of {@link AdmissionQueue} over random sequences of offers, polls, cancellations and clock ticks,
 * checked against {@link ReferenceAdmissionQueue} and against the bounds deficit round robin promises.
 */
class AdmissionQueuePropertiesTest {
  static final long MS = 1_000_000L;
  static final List<String> TENANTS = List.of("a", "b", "c", "d");

  sealed interface Op permits Offer, Poll, Cancel, Tick {}

  /** Offers a new job, or one reusing the id of an earlier job when {@code reuse} is set. */
  record Offer(String tenant, Priority priority, int cost, Integer deadlineInMs, int estimatedWaitMs, Integer reuse) implements Op {}

  record Poll() implements Op {}

  record Cancel(int job) implements Op {}

  record Tick(int ms) implements Op {}

  @Provide
  Arbitrary<AdmissionSettings> settings() {
    return settings(Arbitraries.of(OverflowPolicy.class), Arbitraries.integers().between(1, 6));
  }

  @Provide
  Arbitrary<AdmissionSettings> dropLruSettings() {
    return settings(Arbitraries.just(OverflowPolicy.DROP_LRU), Arbitraries.integers().between(1, 4));
  }

  private static Arbitrary<AdmissionSettings> settings(Arbitrary<OverflowPolicy> policy, Arbitrary<Integer> capacity) {
    var weight = Arbitraries.integers().between(1, 4);
    return Combinators.combine(capacity, policy, weight, weight, Arbitraries.integers().between(1, 3), Arbitraries.integers().between(1, 3))
        .as((cap, pol, a, b, defaultWeight, quantum) -> new AdmissionSettings(cap, pol, Map.of("a", a, "b", b), defaultWeight, quantum));
  }

  @Provide
  Arbitrary<List<Op>> operations() {
    Arbitrary<Op> offer = Combinators.combine(Arbitraries.of(TENANTS), Arbitraries.of(Priority.class), Arbitraries.integers().between(1, 4),
            Arbitraries.integers().between(-2, 20).injectNull(0.5), Arbitraries.integers().between(0, 5),
            Arbitraries.integers().between(0, 40).injectNull(0.9))
        .as(Offer::new);
    Arbitrary<Op> poll = Arbitraries.just(new Poll());
    Arbitrary<Op> cancel = Arbitraries.integers().between(0, 40).map(Cancel::new);
    Arbitrary<Op> tick = Arbitraries.integers().between(1, 5).map(Tick::new);
    return Arbitraries.frequencyOf(List.of(Tuple.of(6, offer), Tuple.of(4, poll), Tuple.of(1, cancel), Tuple.of(1, tick)))
        .list().ofMaxSize(80);
  }

  /** A roomy queue where most jobs have deadlines and many are cancelled: exercises the deadline heap. */
  @Provide
  Arbitrary<AdmissionSettings> roomySettings() {
    return settings(Arbitraries.of(OverflowPolicy.class), Arbitraries.integers().between(20, 64));
  }

  @Provide
  Arbitrary<List<Op>> deadlineHeavyOperations() {
    Arbitrary<Op> offer = Combinators.combine(Arbitraries.of(TENANTS), Arbitraries.of(Priority.class), Arbitraries.integers().between(1, 4),
            Arbitraries.integers().between(0, 60).injectNull(0.1), Arbitraries.just(0), Arbitraries.just((Integer) null))
        .as(Offer::new);
    Arbitrary<Op> cancel = Arbitraries.integers().between(0, 120).map(Cancel::new);
    Arbitrary<Op> tick = Arbitraries.integers().between(1, 5).map(Tick::new);
    return Arbitraries.frequencyOf(List.of(Tuple.of(8, offer), Tuple.of(1, Arbitraries.just(new Poll())), Tuple.of(4, cancel), Tuple.of(2, tick)))
        .list().ofMinSize(40).ofMaxSize(200);
  }

  /** What one operation did to the queue under test. */
  record Step(AdmissionItem<Integer> offered, OfferResult<Integer> offerResult, PollResult<Integer> polled, Optional<AdmissionItem<Integer>> cancelled) {}

  /** Applies operations to a queue, naming jobs j0, j1, … and keeping a clock that starts below zero. */
  static final class Replay {
    final AdmissionQueue<Integer> queue;
    long now = -20 * MS;
    int jobs;

    Replay(AdmissionSettings settings) {
      queue = new AdmissionQueue<>(settings);
    }

    AdmissionItem<Integer> jobFor(Offer o) {
      int n = o.reuse() == null ? jobs++ : o.reuse() % (jobs + 1);
      long deadline = o.deadlineInMs() == null ? AdmissionItem.NO_DEADLINE : now + o.deadlineInMs() * MS;
      return new AdmissionItem<>("j" + n, o.tenant(), o.priority(), now, deadline, o.cost(), n);
    }

    Step apply(Op op) {
      if (op instanceof Offer o) {
        var job = jobFor(o);
        return new Step(job, queue.offer(job, now, o.estimatedWaitMs() * MS), null, null);
      }
      if (op instanceof Cancel c) return new Step(null, null, null, queue.remove("j" + c.job()));
      if (op instanceof Tick t) now += t.ms() * MS;
      return new Step(null, null, op instanceof Poll ? queue.poll(now) : null, null);
    }
  }

  // Edge cases of whole lists (empty, one element) add little here and outnumber the tries, and every range
  // is small enough for random generation to reach its ends: these properties use random samples only.
  @Property(edgeCases = EdgeCasesMode.NONE)
  void behavesLikeTheReferenceModelAfterEveryOperation(@ForAll("settings") AdmissionSettings settings, @ForAll("operations") List<Op> ops) {
    compareWithReference(settings, ops);
  }

  @Property(edgeCases = EdgeCasesMode.NONE)
  @StatisticsReport(StatisticsReport.StatisticsReportMode.OFF)
  void dropLruEvictsExactlyTheVictimTheReferenceModelPicks(@ForAll("dropLruSettings") AdmissionSettings settings, @ForAll("operations") List<Op> ops) {
    int evictions = compareWithReference(settings, ops);
    // The generator must make evictions common, or this property would prove little.
    Statistics.label("evicted").collect(evictions > 0);
    Statistics.label("evicted").coverage(c -> c.check(true).percentage(p -> p >= 10));
  }

  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void expiresInDeadlineOrderWhateverWasCancelledBefore(@ForAll("roomySettings") AdmissionSettings settings,
      @ForAll("deadlineHeavyOperations") List<Op> ops) {
    compareWithReference(settings, ops);
  }

  /** Runs both queues side by side and returns how many evictions there were. */
  private static int compareWithReference(AdmissionSettings settings, List<Op> ops) {
    var replay = new Replay(settings);
    var reference = new ReferenceAdmissionQueue<Integer>(settings);
    int evictions = 0;
    for (Op op : ops) {
      var step = replay.apply(op);
      long now = replay.now;
      if (step.offered() != null) {
        var o = (Offer) op;
        String expected = reference.offer(step.offered(), now, o.estimatedWaitMs() * MS);
        assertEquals(expected, ReferenceAdmissionQueue.describe(step.offerResult()), () -> "offer of " + step.offered());
        if (step.offerResult() instanceof OfferResult.AdmittedEvicting<Integer> e) {
          evictions++;
          assertTrue(e.victim().priority().compareTo(step.offered().priority()) > 0, "a victim is always less urgent than the job it makes room for");
        }
      }
      if (step.polled() != null) assertEquals(reference.poll(now), step.polled(), "poll at " + now);
      if (step.cancelled() != null) assertEquals(reference.remove("j" + ((Cancel) op).job()), step.cancelled(), op.toString());
      assertEquals(reference.size(), replay.queue.size(), () -> "size after " + op);
      for (String t : TENANTS) assertEquals(reference.depth(t), replay.queue.depth(t), () -> "depth of " + t + " after " + op);
    }
    return evictions;
  }

  @Property(edgeCases = EdgeCasesMode.NONE)
  void capacityIsNeverExceededAndEveryJobIsAccountedFor(@ForAll("settings") AdmissionSettings settings, @ForAll("operations") List<Op> ops) {
    var replay = new Replay(settings);
    int in = 0;
    int out = 0;
    for (Op op : ops) {
      var step = replay.apply(op);
      if (step.offerResult() != null && step.offerResult().admitted()) in++;
      if (step.offerResult() instanceof OfferResult.AdmittedEvicting<Integer>) out++;
      if (step.polled() != null) out += step.polled().expired().size() + (step.polled().next().isPresent() ? 1 : 0);
      if (step.cancelled() != null && step.cancelled().isPresent()) out++;
      assertTrue(replay.queue.size() <= settings.capacity(), () -> "size " + replay.queue.size() + " after " + op);
      assertEquals(in - out, replay.queue.size(), () -> "admitted minus left after " + op);
    }
  }

  @Property(edgeCases = EdgeCasesMode.NONE)
  void jobsOfOneTenantAndPriorityAreDispatchedInOfferOrder(@ForAll("settings") AdmissionSettings settings, @ForAll("operations") List<Op> ops) {
    var replay = new Replay(settings);
    Map<String, ArrayDeque<String>> waiting = new HashMap<>();
    for (Op op : ops) {
      var step = replay.apply(op);
      if (step.offerResult() != null && step.offerResult().admitted()) {
        waiting.computeIfAbsent(key(step.offered()), k -> new ArrayDeque<>()).addLast(step.offered().id());
      }
      if (step.offerResult() instanceof OfferResult.AdmittedEvicting<Integer> e) waiting.get(key(e.victim())).remove(e.victim().id());
      if (step.cancelled() != null) step.cancelled().ifPresent(j -> waiting.get(key(j)).remove(j.id()));
      if (step.polled() != null) {
        step.polled().expired().forEach(j -> waiting.get(key(j)).remove(j.id()));
        step.polled().next().ifPresent(j -> assertEquals(waiting.get(key(j)).pollFirst(), j.id(), "the oldest job of " + key(j)));
      }
    }
  }

  private static String key(AdmissionItem<?> job) {
    return job.tenant() + "/" + job.priority();
  }

  /**
   * The bound: a light tenant keeping one unit-cost job queued at a time, against heavy tenants that are never
   * out of unit-cost jobs, waits for at most {@code Σ quantum × weight_heavy} dispatches of others. Its job
   * joins the ring at the tail, and each heavy tenant ahead dispatches at most its credit in one turn.
   */
  @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
  void aLightTenantIsDispatchedWithinTheBoundItsRivalsWeightsSet(@ForAll @IntRange(min = 1, max = 4) int quantum,
      @ForAll @Size(min = 1, max = 3) List<@IntRange(min = 1, max = 5) Integer> heavyWeights, @ForAll @IntRange(min = 1, max = 5) int lightWeight,
      @ForAll Priority priority, @ForAll @Size(min = 1, max = 20) List<@IntRange(min = 0, max = 12) Integer> pollsBetweenJobs) {
    var weights = new HashMap<String, Integer>();
    weights.put("light", lightWeight);
    for (int i = 0; i < heavyWeights.size(); i++) weights.put("heavy" + i, heavyWeights.get(i));
    var q = new AdmissionQueue<Integer>(new AdmissionSettings(10_000, OverflowPolicy.REJECT, weights, 1, quantum));
    int bound = heavyWeights.stream().mapToInt(w -> quantum * w).sum();
    var feeder = new Feeder(q, priority);
    for (int polls : pollsBetweenJobs) {
      for (int i = 0; i < polls; i++) {
        feeder.topUp(heavyWeights.size(), quantum * 5 + 1);
        q.poll(0);
      }
      feeder.offer("light", 1);
      int others = 0;
      while (true) {
        feeder.topUp(heavyWeights.size(), quantum * 5 + 1);
        var next = q.poll(0).next().orElseThrow();
        if (next.tenant().equals("light")) break;
        others++;
      }
      int waited = others;
      assertTrue(waited <= bound, () -> "light waited " + waited + " dispatches, bound " + bound);
    }
  }

  /**
   * Over R rounds a backlogged tenant i dispatches R × quantum × w_i cost units, give or take its carried
   * deficit (below the largest cost C); a partial round adds at most quantum × w_i + C − 1. Hence after S units
   * dispatched in all, |S_i − S × w_i / W| ≤ quantum × W + (n + 1)(C − 1) = B for n tenants of total weight W.
   * Run until S ≥ 50 B, so that each share is also within 2 % of w_i / W. With unit costs (the costs list may
   * be all ones) S_i is tenant i's dispatch count.
   */
  @Property(tries = 200)
  void dispatchSharesFollowTheWeightsInTheLongRun(@ForAll @IntRange(min = 1, max = 4) int quantum,
      @ForAll @Size(min = 2, max = 4) List<@IntRange(min = 1, max = 5) Integer> weightList,
      @ForAll @Size(min = 1, max = 10) List<@IntRange(min = 1, max = 3) Integer> costs, @ForAll Priority priority) {
    int n = weightList.size();
    var weights = new HashMap<String, Integer>();
    for (int i = 0; i < n; i++) weights.put("heavy" + i, weightList.get(i));
    int totalWeight = weightList.stream().mapToInt(Integer::intValue).sum();
    int maxCost = costs.stream().mapToInt(Integer::intValue).max().orElseThrow();
    long bound = (long) quantum * totalWeight + (long) (n + 1) * (maxCost - 1);
    var q = new AdmissionQueue<Integer>(new AdmissionSettings(10_000, OverflowPolicy.REJECT, weights, 1, quantum));
    var feeder = new Feeder(q, priority);
    feeder.costs = costs;
    long[] served = new long[n];
    long total = 0;
    while (total < 50 * bound) {
      feeder.topUp(n, quantum * 5 + 1);
      var job = q.poll(0).next().orElseThrow();
      served[Integer.parseInt(job.tenant().substring("heavy".length()))] += job.cost();
      total += job.cost();
    }
    for (int i = 0; i < n; i++) {
      double fair = (double) total * weightList.get(i) / totalWeight;
      int tenant = i;
      long sum = total;
      assertTrue(Math.abs(served[i] - fair) <= bound, () -> "tenant " + tenant + " got " + served[tenant] + " of " + sum + ", fair " + fair + ", bound " + bound);
      assertTrue(Math.abs((double) served[i] / total - (double) weightList.get(i) / totalWeight) <= 0.02);
    }
  }

  /** Keeps the heavy tenants backlogged, cycling through the given costs. */
  static final class Feeder {
    final AdmissionQueue<Integer> queue;
    final Priority priority;
    List<Integer> costs = List.of(1);
    int jobs;

    Feeder(AdmissionQueue<Integer> queue, Priority priority) {
      this.queue = queue;
      this.priority = priority;
    }

    void topUp(int heavyTenants, int depth) {
      for (int i = 0; i < heavyTenants; i++) {
        while (queue.depth("heavy" + i) < depth) offer("heavy" + i, costs.get(jobs % costs.size()));
      }
    }

    void offer(String tenant, int cost) {
      int n = jobs++;
      assertTrue(queue.offer(new AdmissionItem<>("j" + n, tenant, priority, 0, AdmissionItem.NO_DEADLINE, cost, n), 0).admitted());
    }
  }
}
