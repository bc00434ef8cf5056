package io.dalang.engine.chaos;

import io.dalang.engine.Engine;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's fault-injection switchboard: the plan in force and what it injected. Every engine the node
 * starts is wrapped ({@link #wrap}) whether chaos is on or not, so a plan applied at run time (admin API,
 * tests) reaches engines already running; while it is off a generation costs one volatile read more.
 *
 * <p>Draws are synchronized: with the same plan, seed and order of generations the same faults are armed.
 */
public final class Chaos {
  private static final Logger log = LoggerFactory.getLogger(Chaos.class);

  /** Told of every fault actually injected (metrics). */
  @FunctionalInterface
  public interface Listener {
    void injected(Fault.Kind kind, String slotId);
  }

  /** A fault of the plan in force, and how often it matched, was armed and was injected. */
  public record FaultStatus(Fault fault, long seen, long armed, long injected) {}

  /** What the admin API shows: on or off, the seed, each fault with its counts. */
  public record Status(boolean enabled, long seed, List<FaultStatus> faults) {}

  private static final class Armed {
    final Fault fault;
    final SplittableRandom random;
    long seen;
    long armed;
    long injected;

    Armed(Fault fault, long seed, int index) {
      this.fault = fault;
      this.random = new SplittableRandom(seed * 1_000_003L + index);
    }
  }

  private final Listener listener;
  private volatile boolean enabled;
  private long seed;
  private List<Armed> faults = List.of();

  public Chaos(Listener listener) {
    this.listener = listener;
  }

  /** Chaos off, nobody listening: what a node without {@code dalang.chaos} gets. */
  public static Chaos off() {
    return new Chaos((k, s) -> {});
  }

  public boolean enabled() {
    return enabled;
  }

  /** Puts {@code plan} in force (counts start at 0) and switches chaos on. */
  public synchronized void apply(ChaosPlan plan, String by) {
    seed = plan.seed();
    var armed = new ArrayList<Armed>();
    for (int i = 0; i < plan.faults().size(); i++) armed.add(new Armed(plan.faults().get(i), plan.seed(), i));
    faults = List.copyOf(armed);
    enabled = true;
    log.warn("CHAOS ON ({}): {} fault(s) will be injected into this node's engines, seed {}: {}", by, faults.size(), seed,
        plan.faults().stream().map(Fault::describe).toList());
  }

  /** Switches chaos off and forgets the plan. */
  public synchronized void clear(String by) {
    boolean was = enabled;
    enabled = false;
    faults = List.of();
    if (was) log.warn("CHAOS OFF ({}): no more faults are injected", by);
  }

  public synchronized Status status() {
    return new Status(enabled, seed, faults.stream().map(a -> new FaultStatus(a.fault, a.seen, a.armed, a.injected)).toList());
  }

  /** An engine of slot {@code slotId} in pool {@code poolId} with this switchboard's hooks. */
  public Engine wrap(Engine engine, String slotId, String poolId) {
    return new ChaosEngine(engine, this, slotId, poolId);
  }

  /** The faults armed for one generation (or one engine start) of a slot; empty while chaos is off. */
  List<Fault> draw(Fault.At at, String slotId, String poolId) {
    if (!enabled) return List.of();
    synchronized (this) {
      var out = new ArrayList<Fault>();
      for (Armed a : faults) {
        Fault f = a.fault;
        if (f.at() != at || !f.matches(slotId, poolId)) continue;
        a.seen++;
        if (a.seen % f.every() != 0 || f.count() > 0 && a.armed >= f.count()) continue;
        if (f.probability() < 1 && a.random.nextDouble() >= f.probability()) continue;
        a.armed++;
        out.add(f);
      }
      return out;
    }
  }

  /** Counts and logs one injection of {@code fault}. */
  void injected(Fault fault, String slotId, String runId, String what) {
    synchronized (this) {
      for (Armed a : faults) if (a.fault == fault) a.injected++;
    }
    log.warn("CHAOS: {} injected on slot {}{}: {}", fault.kind().wireName(), slotId, runId == null ? "" : " into run " + runId, what);
    listener.injected(fault.kind(), slotId);
  }

  /** The status as the admin API renders it. */
  public Map<String, Object> describe() {
    Status s = status();
    var m = new LinkedHashMap<String, Object>();
    m.put("enabled", s.enabled());
    m.put("seed", s.seed());
    m.put("faults", s.faults().stream().map(f -> {
      var d = new LinkedHashMap<>(f.fault().describe());
      d.put("seen", f.seen());
      d.put("armed", f.armed());
      d.put("injected", f.injected());
      return d;
    }).toList());
    return m;
  }
}
