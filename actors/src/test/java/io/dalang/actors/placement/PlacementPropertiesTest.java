package io.dalang.actors.placement;

import io.dalang.actors.TimeSource;
import io.dalang.actors.placement.internal.FleetTable;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Properties of placement on random fleets (the seed is the counterexample jqwik reports): the cache
 * never changes a decision, and a decision depends on the fleet's content, not on the order in which
 * statuses arrived.
 */
class PlacementPropertiesTest {
  private static final String[] POOLS = {"p0", "p1", "p2"};
  private static final String[] MODELS = {"m0", "m1", "m2"};
  private static final String[] STATES = {"Ready", "Ready", "Ready", "Loading", "Failed"};
  private static final int[] CONTEXTS = {512, 1024, 4096, 8192};
  private static final String[] CCS = {"", "7.5", "8.6", "9.0"};
  private static final String[] QUANTS = {"Q8_0", "F16", "Q4_K_M"};

  static SlotStatus randomSlot(SplittableRandom r, int i, long now) {
    int total = 1 + r.nextInt(8);
    String cc = CCS[r.nextInt(CCS.length)];
    return new SlotStatus(String.format("s%03d", i), POOLS[r.nextInt(POOLS.length)], MODELS[r.nextInt(MODELS.length)],
        "n" + r.nextInt(4), "d0", STATES[r.nextInt(STATES.length)], "llama-server", "v1", cc.isEmpty() ? "cpu" : "cuda", cc,
        QUANTS[r.nextInt(QUANTS.length)], r.nextBoolean() ? Set.of("grammar") : Set.of(), CONTEXTS[r.nextInt(CONTEXTS.length)],
        total, r.nextInt(total + 1), r.nextInt(4), 0, -1, "", null, now);
  }

  static PlacementSpec randomJob(SplittableRandom r) {
    var pools = new java.util.HashSet<String>();
    pools.add(POOLS[r.nextInt(POOLS.length)]);
    if (r.nextBoolean()) pools.add(POOLS[r.nextInt(POOLS.length)]);
    return new PlacementSpec(MODELS[r.nextInt(MODELS.length)], pools, 1 + r.nextInt(3000), 1 + r.nextInt(3000),
        r.nextInt(4) == 0 ? Set.of("grammar") : Set.of(), r.nextInt(4) == 0 ? "8.0" : "",
        r.nextInt(5) == 0 ? Set.of("Q8_0", "F16") : Set.of());
  }

  /** What must be equal between two decisions: the choice, the error and every candidate's verdict. */
  static List<Object> outcome(PlacementDecision d) {
    var verdicts = new ArrayList<Object>();
    for (var c : d.candidates()) verdicts.add(c.slot().slotId() + ":" + c.failed() + ":" + c.score());
    Collections.sort(verdicts, java.util.Comparator.comparing(Object::toString));
    return List.of(String.valueOf(d.chosen()), d.error() == null ? "-" : d.error().code().code() + ": " + d.error().message(), verdicts);
  }

  @Property(tries = 200)
  void theCacheNeverChangesADecision(@ForAll long seed) {
    var r = new SplittableRandom(seed);
    long now = System.currentTimeMillis();
    var slots = new ArrayList<SlotStatus>();
    int n = 1 + r.nextInt(30);
    for (int i = 0; i < n; i++) slots.add(randomSlot(r, i, now));
    var fleet = new FleetTable();
    fleet.replaceAll(slots);
    var policy = PlacementPolicy.values()[r.nextInt(3)];
    var cached = new Placement(policy, Long.MAX_VALUE, 8, TimeSource.SYSTEM);
    var uncached = new Placement(policy, 0, 0, TimeSource.SYSTEM);
    var jobs = new ArrayList<PlacementSpec>();
    for (int i = 0; i < 6; i++) jobs.add(randomJob(r));
    for (int step = 0; step < 200; step++) {
      int op = r.nextInt(10);
      SlotStatus s = fleet.get(r.nextInt(fleet.size()));
      if (op < 5) {
        int free = r.nextInt(s.slotsTotal() + 1);
        fleet.update(Slots.load(s, free, r.nextInt(4)));
      } else if (op == 5) {
        fleet.update(Slots.withState(s, s.ready() ? "Loading" : "Ready"));
      }
      PlacementSpec job = jobs.get(r.nextInt(jobs.size()));
      assertEquals(outcome(uncached.decide(fleet, job, "r", "t")), outcome(cached.decide(fleet, job, "r", "t")),
          "step " + step + ", policy " + policy + ", job " + job);
    }
  }

  @Property(tries = 200)
  void theSameFleetAndJobGiveTheSameDecisionWhateverTheArrivalOrder(@ForAll long seed) {
    var r = new SplittableRandom(seed);
    long now = System.currentTimeMillis();
    var slots = new ArrayList<SlotStatus>();
    int n = 1 + r.nextInt(30);
    for (int i = 0; i < n; i++) slots.add(randomSlot(r, i, now));
    var shuffled = new ArrayList<>(slots);
    Collections.shuffle(shuffled, new Random(seed));
    var a = new FleetTable();
    slots.forEach(a::update);
    var b = new FleetTable();
    shuffled.forEach(b::update);
    var policy = PlacementPolicy.values()[r.nextInt(3)];
    for (int i = 0; i < 10; i++) {
      PlacementSpec job = randomJob(r);
      assertEquals(outcome(new Placement(policy, 0, 0, TimeSource.SYSTEM).decide(a, job, "r", "t")),
          outcome(new Placement(policy, 0, 0, TimeSource.SYSTEM).decide(b, job, "r", "t")), "job " + job);
    }
  }
}
