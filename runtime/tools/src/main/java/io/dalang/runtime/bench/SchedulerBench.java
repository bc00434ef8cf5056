package io.dalang.runtime.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.actors.TimeSource;
import io.dalang.actors.admission.internal.AdmissionQueue;
import io.dalang.actors.admission.AdmissionSettings;
import io.dalang.actors.admission.internal.AdmissionItem;
import io.dalang.actors.admission.OverflowPolicy;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.placement.internal.FleetTable;
import io.dalang.actors.placement.PlacementSpec;
import io.dalang.actors.placement.Placement;
import io.dalang.actors.placement.PlacementDecision;
import io.dalang.actors.placement.PlacementPolicy;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.runtime.http.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang bench scheduler}: how many admission + placement decisions per second the scheduler's
 * own data structures make on a simulated fleet, and how long one takes (p50/p99/max), once with the
 * placement decision cache and once without.
 *
 * <p>One decision is what the scheduler does for one request, on one thread: offer the run as a
 * {@link AdmissionItem} to the {@link AdmissionQueue} of the pool that serves its model to its tenant, poll that
 * queue (deficit round robin picks which tenant's job goes next; each queue holds a {@code --backlog} so
 * that the choice is real), run {@link Placement#decide} for the polled job on the {@link FleetTable},
 * and book the outcome as load: the chosen slot loses a free sequence (or gains a queued run), and a
 * random earlier placement gives its sequence back, so the fleet stays near 75% busy. What it does not
 * include: no engines, no actors, no messages, no network, no persistence, no metrics; the request's
 * random draws and its {@link PlacementSpec} are made before the clock starts. Every {@code --churn} decisions
 * one slot restarts (structural change, outside the clock): the slot taken down last time comes back
 * Ready and another goes to Loading, so the fleet version moves and the cache is dropped now and then.
 *
 * <p>The cached and uncached runs each build a fresh world from the same {@code --seed}. Placement is
 * deterministic and the cache only saves work, never changes an outcome, so both runs draw the same
 * requests and make the same decisions (checked: exit code 1 if not): the only difference between them
 * is the cache.
 */
@Command(name = "scheduler", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Admission + placement decisions per second and decision latency on a simulated fleet (no engines), with and without the placement decision cache.",
        "Target: >= 100000 decisions/s and p99 <= 1 ms, with and without the cache.",
        "Progress goes to stderr; stdout holds only the report. Exit code 2 on bad arguments, 1 if the cached and uncached runs decided differently."})
public final class SchedulerBench implements Callable<Integer> {
  private static final ObjectMapper JSON = Json.MAPPER;
  private static final int QUEUE_CAPACITY = 1024;
  private static final int MAX_SLOTS = 1_000_000;
  private static final int MAX_DECISIONS = 20_000_000;
  private static final int[] CONTEXTS = {4096, 8192, 32768};
  private static final Set<String> EXTENSIONS = Set.of("grammar");
  private static final double TARGET_PER_SECOND = 100_000;
  private static final double TARGET_P99_MS = 1.0;
  /** Share of the fleet's sequences that placements hold at steady state. */
  private static final double BUSY_SHARE = 0.75;

  @Option(names = "--nodes", defaultValue = "250", description = "Nodes in the simulated fleet (default ${DEFAULT-VALUE})")
  int nodes;

  @Option(names = "--gpus-per-node", defaultValue = "4", description = "Devices per node (default ${DEFAULT-VALUE})")
  int gpusPerNode;

  @Option(names = "--slots-per-gpu", defaultValue = "1", description = "Model slots per device (default ${DEFAULT-VALUE})")
  int slotsPerGpu;

  @Option(names = "--models", defaultValue = "100", description = "Models, spread round-robin over the slots (default ${DEFAULT-VALUE})")
  int models;

  @Option(names = "--pools", defaultValue = "50", description = "Pools, made of whole nodes round-robin (default ${DEFAULT-VALUE})")
  int pools;

  @Option(names = "--tenants", defaultValue = "10000", description = "Tenants, each allowed 1 to 3 pools (default ${DEFAULT-VALUE})")
  int tenants;

  @Option(names = "--policy", defaultValue = "least-loaded", description = "least-loaded, bin-pack or spread (default ${DEFAULT-VALUE})")
  String policy;

  @Option(names = "--decisions", defaultValue = "1000000", description = "Measured decisions per run (default ${DEFAULT-VALUE})")
  int decisions;

  @Option(names = "--warmup", defaultValue = "200000", description = "Discarded decisions before measuring, per run (default ${DEFAULT-VALUE})")
  int warmup;

  @Option(names = "--churn", defaultValue = "10000", description = "Decisions between two slot restarts, which change the fleet's version (default ${DEFAULT-VALUE})")
  int churn;

  @Option(names = "--backlog", defaultValue = "16", description = "Jobs kept waiting in each pool's queue (capacity " + QUEUE_CAPACITY + ") (default ${DEFAULT-VALUE})")
  int backlog;

  @Option(names = "--cache-size", defaultValue = "4096", description = "AdmissionItem classes the decision cache holds in the cached run (default ${DEFAULT-VALUE})")
  int cacheSize;

  @Option(names = "--cache-ttl-ms", defaultValue = "10000", description = "Decision cache TTL in the cached run (default ${DEFAULT-VALUE})")
  int cacheTtlMs;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the fleet, the tenants and the requests (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--json", description = "Print one JSON object instead of the table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    String bad = validate();
    if (bad != null) {
      System.err.println("dalang bench scheduler: " + bad);
      return 2;
    }
    PlacementPolicy p = PlacementPolicy.parse(policy);
    long publishedAt = System.currentTimeMillis(); // one value for both worlds: nothing differs but the cache
    Run cached = run("cached", p, TimeUnit.MILLISECONDS.toNanos(cacheTtlMs), publishedAt);
    Run uncached = run("uncached", p, 0, publishedAt);
    boolean same = cached.placed() == uncached.placed() && cached.checksum() == uncached.checksum();
    if (!same) System.err.println("dalang bench scheduler: the cached and uncached runs made different decisions: the cache changed an outcome");
    System.out.println(json ? JSON.writeValueAsString(toMap(p, cached, uncached, same)) : table(p, cached, uncached, same));
    System.out.flush();
    return same ? 0 : 1;
  }

  private String validate() {
    if (nodes < 1 || gpusPerNode < 1 || slotsPerGpu < 1 || models < 1 || pools < 1 || tenants < 1) {
      return "--nodes, --gpus-per-node, --slots-per-gpu, --models, --pools and --tenants must each be at least 1";
    }
    long slots = (long) nodes * gpusPerNode * slotsPerGpu;
    if (slots > MAX_SLOTS) return "the fleet would have " + slots + " slots, more than " + MAX_SLOTS;
    if (models > slots) return "--models " + models + " is more than the " + slots + " slots: every model needs one";
    if (pools > nodes) return "--pools " + pools + " is more than --nodes " + nodes + ": a pool is made of whole nodes";
    if (decisions < 1 || decisions > MAX_DECISIONS) return "--decisions must be between 1 and " + MAX_DECISIONS;
    if (warmup < 0 || (long) warmup + decisions > Integer.MAX_VALUE) return "--warmup must be at least 0, and --warmup + --decisions below 2^31";
    if (churn < 1) return "--churn must be at least 1";
    if (backlog < 0 || backlog >= QUEUE_CAPACITY) return "--backlog must be between 0 and " + (QUEUE_CAPACITY - 1);
    if (cacheSize < 1 || cacheTtlMs < 1) return "--cache-size and --cache-ttl-ms must be at least 1";
    try {
      PlacementPolicy.parse(policy);
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
    return null;
  }

  /** Warm-up, then the measured decisions, on a fresh world; {@code cacheTtlNanos} 0 disables the cache. */
  private Run run(String name, PlacementPolicy p, long cacheTtlNanos, long publishedAt) {
    var w = new World(publishedAt);
    var placement = new Placement(p, cacheTtlNanos, cacheSize, TimeSource.SYSTEM);
    long[] latencies = new long[decisions];
    System.gc(); // the garbage of building this world (and of the previous run) is not the decisions'
    System.err.printf("bench: %s run: %d slots, %d warm-up + %d measured decisions%n", name, w.fleet.size(), warmup, decisions);
    long placed = 0;
    long rejected = 0;
    long notAdmitted = 0;
    long checksum = 1;
    long decideNanos = 0;
    long hits0 = 0;
    long misses0 = 0;
    long start = 0;
    int all = warmup + decisions;
    for (int i = 0; i < all; i++) {
      if (i == warmup) {
        placed = rejected = notAdmitted = decideNanos = 0;
        checksum = 1;
        hits0 = placement.cacheHits();
        misses0 = placement.cacheMisses();
        start = System.nanoTime();
      }
      if (i > 0 && i % churn == 0) w.restartOneSlot();
      // The request as it reaches the scheduler: drawn before the clock starts.
      Tenant t = w.tenantTable[w.rng.nextInt(w.tenantTable.length)];
      int r = w.rng.nextInt(t.models().length);
      PlacementSpec spec = w.spec(t.models()[r], t.queues()[r]);
      String runId = Integer.toString(i);
      AdmissionQueue<PlacementSpec> queue = w.queues.get(t.queues()[r]);

      long t0 = System.nanoTime();
      if (!queue.offer(new AdmissionItem<>(runId, t.id(), Priority.INTERACTIVE, t0, AdmissionItem.NO_DEADLINE, 1, spec), t0).admitted()) notAdmitted++;
      AdmissionItem<PlacementSpec> next = queue.poll(t0).next().orElse(null);
      if (next != null) {
        PlacementDecision d = placement.decide(w.fleet, next.payload(), next.id(), next.tenant());
        decideNanos += d.decisionNanos();
        if (d.chosen() != null) {
          int slot = w.slotIndex.get(d.chosen());
          w.take(slot);
          placed++;
          checksum = checksum * 31 + slot;
        } else {
          rejected++;
          checksum = checksum * 31 - 1;
        }
      }
      long t1 = System.nanoTime();
      if (i >= warmup) latencies[i - warmup] = t1 - t0;
    }
    long wall = System.nanoTime() - start;
    Arrays.sort(latencies);
    return new Run(latencies, wall, placed, rejected, notAdmitted, placement.cacheHits() - hits0,
        placement.cacheMisses() - misses0, decideNanos, checksum);
  }

  /** A tenant: its pools, and each model it reaches with the index of the pool whose queue takes it. */
  private record Tenant(String id, Set<String> pools, int[] models, int[] queues) {}

  /** One simulated fleet with its tenants and pool queues, built from the seed alone. */
  private final class World {
    final SplittableRandom rng = new SplittableRandom(seed);
    final FleetTable fleet = new FleetTable();
    /** FleetTable has no index lookup by id; its indexes stay put while no slot comes or goes. */
    final Map<String, Integer> slotIndex = new HashMap<>();
    String[] poolIds;
    final String[] modelIds = new String[models];
    final Tenant[] tenantTable = new Tenant[tenants];
    final List<AdmissionQueue<PlacementSpec>> queues = new ArrayList<>(pools);
    /** Slot indexes of the placements still holding load; one at random is released per new one. */
    final int[] holding;
    int held;
    int down = -1;

    World(long publishedAt) {
      poolIds = new String[pools];
      for (int p = 0; p < pools; p++) poolIds[p] = String.format("pool-%03d", p);
      for (int m = 0; m < models; m++) modelIds[m] = String.format("model-%04d", m);
      var modelsOfPool = new ArrayList<TreeSet<Integer>>();
      for (int p = 0; p < pools; p++) modelsOfPool.add(new TreeSet<>());
      var statuses = new ArrayList<SlotStatus>();
      long sequences = 0;
      int s = 0;
      for (int n = 0; n < nodes; n++) {
        String node = String.format("node-%04d", n);
        int pool = n % pools;
        for (int g = 0; g < gpusPerNode; g++) {
          for (int k = 0; k < slotsPerGpu; k++, s++) {
            int model = s % models;
            int context = CONTEXTS[rng.nextInt(CONTEXTS.length)];
            int total = 4 + rng.nextInt(13);
            sequences += total;
            modelsOfPool.get(pool).add(model);
            statuses.add(new SlotStatus(node + "/gpu" + g + "/slot" + k, poolIds[pool], modelIds[model], node, "cuda:" + g,
                SlotStatus.READY, "llama-server", "bench", "cuda", "9.0", "Q4_K_M", EXTENSIONS, context, total, total, 0, 0,
                -1, "", null, publishedAt));
          }
        }
      }
      fleet.replaceAll(statuses);
      for (int i = 0; i < fleet.size(); i++) slotIndex.put(fleet.get(i).slotId(), i);
      holding = new int[(int) Math.max(1, sequences * BUSY_SHARE)];

      var tenantsOfPool = new ArrayList<List<Tenant>>();
      for (int p = 0; p < pools; p++) tenantsOfPool.add(new ArrayList<>());
      for (int t = 0; t < tenantTable.length; t++) {
        var mine = new TreeSet<Integer>();
        int want = Math.min(1 + rng.nextInt(3), pools);
        while (mine.size() < want) mine.add(rng.nextInt(pools));
        var names = new ArrayList<String>();
        var reach = new LinkedHashMap<Integer, Integer>(); // model -> pool whose queue takes it (the first)
        for (int p : mine) {
          names.add(poolIds[p]);
          for (int m : modelsOfPool.get(p)) reach.putIfAbsent(m, p);
        }
        tenantTable[t] = new Tenant(String.format("tenant-%05d", t), Set.copyOf(names),
            reach.keySet().stream().mapToInt(Integer::intValue).toArray(), reach.values().stream().mapToInt(Integer::intValue).toArray());
        for (int p : mine) tenantsOfPool.get(p).add(tenantTable[t]);
      }

      var settings = new AdmissionSettings(QUEUE_CAPACITY, OverflowPolicy.REJECT, Map.of(), 1, 1);
      long now = System.nanoTime();
      for (int p = 0; p < pools; p++) {
        var queue = new AdmissionQueue<PlacementSpec>(settings);
        List<Tenant> ts = tenantsOfPool.get(p);
        int[] served = modelsOfPool.get(p).stream().mapToInt(Integer::intValue).toArray();
        for (int b = 0; b < backlog && !ts.isEmpty(); b++) {
          Tenant t = ts.get(rng.nextInt(ts.size()));
          queue.offer(new AdmissionItem<>("backlog-" + p + "-" + b, t.id(), Priority.INTERACTIVE, now, AdmissionItem.NO_DEADLINE, 1,
              spec(served[rng.nextInt(served.length)], p)), now);
        }
        queues.add(queue);
      }
    }

    /**
     * A request for {@code model} as pool {@code pool}'s admission sees it (each pool's queue places on
     * its own slots, so the job names that pool): prompt 16..2048 tokens, max_tokens 16..1024.
     */
    PlacementSpec spec(int model, int pool) {
      return PlacementSpec.of(modelIds[model], Set.of(poolIds[pool]), 16 + rng.nextInt(2033), 16 + rng.nextInt(1009));
    }

    /** Books a placement on slot {@code i} and releases a random earlier one once the fleet is at steady state. */
    void take(int i) {
      SlotStatus s = fleet.get(i);
      fleet.update(s.slotsFree() > 0 ? s.withLoad(s.slotsFree() - 1, s.queued()) : s.withLoad(0, s.queued() + 1));
      if (held < holding.length) {
        holding[held++] = i;
        return;
      }
      int k = rng.nextInt(holding.length);
      SlotStatus r = fleet.get(holding[k]);
      // A queued run takes the freed sequence, if there is one.
      fleet.update(r.queued() > 0 ? r.withLoad(r.slotsFree(), r.queued() - 1) : r.withLoad(Math.min(r.slotsTotal(), r.slotsFree() + 1), 0));
      holding[k] = i;
    }

    /** The slot taken down last time is Ready again, and another one goes to Loading: the version moves. */
    void restartOneSlot() {
      if (down >= 0) fleet.update(fleet.get(down).withState(SlotStatus.READY));
      down = rng.nextInt(fleet.size());
      fleet.update(fleet.get(down).withState("Loading"));
    }
  }

  /** A load-only change: same structure, so the fleet keeps its version. */

  /** One run's measured part; {@code latencies} sorted, in nanoseconds. */
  private record Run(long[] latencies, long wallNanos, long placed, long rejected, long notAdmitted, long hits, long misses,
      long decideNanos, long checksum) {

    double perSecond() {
      return latencies.length * 1e9 / wallNanos;
    }

    /** Nearest rank, in milliseconds. */
    double ms(double p) {
      return latencies[Math.max(0, (int) Math.ceil(p * latencies.length) - 1)] / 1e6;
    }

    double maxMs() {
      return latencies[latencies.length - 1] / 1e6;
    }

    double meanMs() {
      return wallNanos / 1e6 / latencies.length;
    }

    double decideMeanMs() {
      return decideNanos / 1e6 / latencies.length;
    }

    double hitRatio() {
      return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
    }

    double placedRatio() {
      return placed + rejected == 0 ? 0 : (double) placed / (placed + rejected);
    }

    boolean targetMet() {
      return perSecond() >= TARGET_PER_SECOND && ms(0.99) <= TARGET_P99_MS;
    }

    Map<String, Object> toMap() {
      var m = new LinkedHashMap<String, Object>();
      m.put("decisions_per_second", Math.round(perSecond()));
      m.put("p50_ms", round(ms(0.50), 6));
      m.put("p99_ms", round(ms(0.99), 6));
      m.put("max_ms", round(maxMs(), 6));
      m.put("mean_ms", round(meanMs(), 6));
      m.put("decide_mean_ms", round(decideMeanMs(), 6));
      m.put("cache_hit_ratio", round(hitRatio(), 4));
      m.put("placed_ratio", round(placedRatio(), 4));
      m.put("rejected", rejected);
      m.put("not_admitted", notAdmitted);
      m.put("target_met", targetMet());
      return m;
    }
  }

  private Map<String, Object> toMap(PlacementPolicy p, Run cached, Run uncached, boolean same) {
    var m = new LinkedHashMap<String, Object>();
    m.put("nodes", nodes);
    m.put("gpus_per_node", gpusPerNode);
    m.put("slots_per_gpu", slotsPerGpu);
    m.put("models", models);
    m.put("pools", pools);
    m.put("tenants", tenants);
    m.put("policy", p.wireName());
    m.put("decisions", decisions);
    m.put("warmup", warmup);
    m.put("churn", churn);
    m.put("backlog", backlog);
    m.put("cache_size", cacheSize);
    m.put("cache_ttl_ms", cacheTtlMs);
    m.put("seed", seed);
    m.put("cached", cached.toMap());
    m.put("uncached", uncached.toMap());
    m.put("speedup", round(cached.perSecond() / uncached.perSecond(), 3));
    m.put("same_decisions", same);
    m.put("target_met", cached.targetMet() && uncached.targetMet());
    return m;
  }

  private String table(PlacementPolicy p, Run cached, Run uncached, boolean same) {
    var sb = new StringBuilder();
    sb.append(String.format("Scheduler: %d nodes x %d GPUs x %d slots, %d models, %d pools, %d tenants, policy %s, "
        + "%d decisions after %d warm-up, a slot restart every %d, backlog %d per pool%n%n",
        nodes, gpusPerNode, slotsPerGpu, models, pools, tenants, p.wireName(), decisions, warmup, churn, backlog));
    sb.append(String.format("%-22s %12s %12s%n", "", "cached", "uncached"));
    sb.append(String.format("%-22s %12.0f %12.0f%n", "decisions/s", cached.perSecond(), uncached.perSecond()));
    sb.append(String.format("%-22s %12.2f %12.2f%n", "p50 (us)", cached.ms(0.50) * 1000, uncached.ms(0.50) * 1000));
    sb.append(String.format("%-22s %12.2f %12.2f%n", "p99 (us)", cached.ms(0.99) * 1000, uncached.ms(0.99) * 1000));
    sb.append(String.format("%-22s %12.2f %12.2f%n", "max (us)", cached.maxMs() * 1000, uncached.maxMs() * 1000));
    sb.append(String.format("%-22s %12.2f %12.2f%n", "in decide, mean (us)", cached.decideMeanMs() * 1000, uncached.decideMeanMs() * 1000));
    sb.append(String.format("%-22s %12.4f %12.4f%n", "cache hit ratio", cached.hitRatio(), uncached.hitRatio()));
    sb.append(String.format("%-22s %12.4f %12.4f%n", "placed ratio", cached.placedRatio(), uncached.placedRatio()));
    sb.append(String.format("%-22s %12d %12d%n", "not admitted", cached.notAdmitted(), uncached.notAdmitted()));
    sb.append(String.format("%nspeedup (cached / uncached decisions/s): %.3f%s%n", cached.perSecond() / uncached.perSecond(),
        same ? "" : "  (WARNING: the two runs decided differently)"));
    sb.append(String.format("target (>= %.0f decisions/s and p99 <= %.0f ms): cached %s, uncached %s",
        TARGET_PER_SECOND, TARGET_P99_MS, cached.targetMet() ? "met" : "NOT met", uncached.targetMet() ? "met" : "NOT met"));
    return sb.toString();
  }

  private static double round(double v, int places) {
    double f = Math.pow(10, places);
    return Double.isFinite(v) ? Math.round(v * f) / f : v;
  }
}
