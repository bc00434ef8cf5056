package io.dalang.actors.placement;

import io.dalang.actors.TimeSource;
import io.dalang.actors.placement.internal.FleetTable;
import io.dalang.actors.TimeSource;
import io.dalang.protocols.error.DalangError;
import io.dalang.actors.TimeSource;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.RunTask;
import io.dalang.actors.TimeSource;
import java.util.ArrayList;
import io.dalang.actors.TimeSource;
import java.util.HashMap;
import io.dalang.actors.TimeSource;
import java.util.LinkedHashMap;
import io.dalang.actors.TimeSource;
import java.util.List;
import io.dalang.actors.TimeSource;
import java.util.Map;

/**
 * Placement of runs on slots: feasibility first, then a policy's score, with a decision cache.
 *
 * <p>For a spec, every slot serving its model is checked (pool, state, context, compute capability,
 * quantization, extensions) and each failure is kept; only the slots that pass are scored by the
 * {@link PlacementPolicy} on their current load, and the highest score wins, ties to the lowest slot
 * id. Deterministic: the same {@link FleetTable} state and spec give the same decision.
 *
 * <p>The checks that do not depend on the spec's exact size are the same for every spec of one
 * {@link PlacementSpec.Requirements}; their outcome is cached under (requirement class, fleet version, policy) for
 * {@code cacheTtlNanos}. Any structural change to the fleet raises its version, and the cache is
 * dropped, so a stale filtering is never used. The exact context check and the scoring always run on
 * the current fleet.
 *
 * <p>Not thread-safe: owned by one actor (or one benchmark thread).
 */
public final class Placement {

  /** The cached part of a decision: which slots pass the requirement class's checks, which fail and why. */
  private record Filtered(int[] passing, int[] failing, int[] failedChecks, long createdNanos) {}

  private record Key(PlacementSpec.Requirements requirements, long version, PlacementPolicy policy) {}

  private final PlacementPolicy policy;
  private final long cacheTtlNanos;
  private final TimeSource time;
  private final boolean cacheEnabled;
  private final Map<Key, Filtered> cache;
  private long cacheVersion = -1;
  private long hits;
  private long misses;

  /**
   * @param cacheTtlNanos how long a cached filtering is used at most; 0 or less disables the cache
   * @param cacheSize how many requirement classes the cache holds, least recently used dropped first
   * @param time the clock that ages cached filterings and times decisions
   */
  public Placement(PlacementPolicy policy, long cacheTtlNanos, int cacheSize, TimeSource time) {
    this.policy = policy;
    this.time = time;
    this.cacheTtlNanos = cacheTtlNanos;
    this.cacheEnabled = cacheTtlNanos > 0 && cacheSize > 0;
    this.cache = new LinkedHashMap<>(Math.max(16, Math.min(cacheSize, 1 << 16)), 0.75f, true) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, Filtered> eldest) {
        return size() > cacheSize;
      }
    };
  }

  public PlacementPolicy policy() {
    return policy;
  }

  public long cacheHits() {
    return hits;
  }

  public long cacheMisses() {
    return misses;
  }

  public int cacheSize() {
    return cache.size();
  }

  /** Decides where {@code spec} runs on the fleet as it is now; a slot with no free sequence may be chosen. */
  public PlacementDecision decide(FleetTable fleet, PlacementSpec spec, String runId, String tenantId) {
    return decide(fleet, spec, runId, tenantId, false);
  }

  /**
   * Decides where {@code spec} runs on the fleet as it is now.
   *
   * @param needFreeSequence only a slot with a free sequence may be chosen: a feasible slot without one
   *     is marked {@link PlacementDecision#BUSY}, and if that leaves none the error is {@code capacity_exhausted}
   */
  public PlacementDecision decide(FleetTable fleet, PlacementSpec spec, String runId, String tenantId, boolean needFreeSequence) {
    return decide(fleet, spec, runId, tenantId, needFreeSequence, java.util.Set.of());
  }

  /**
   * As {@link #decide(FleetTable, PlacementSpec, String, String, boolean)}, with the slots whose circuit
   * breaker is open: they are marked {@link PlacementDecision#CIRCUIT_OPEN}, never chosen, and if that
   * leaves none the error is {@code engine_unavailable} (retriable: the run may fall back at once).
   */
  public PlacementDecision decide(FleetTable fleet, PlacementSpec spec, String runId, String tenantId, boolean needFreeSequence,
      java.util.Set<String> circuitOpen) {
    long t0 = time.nanoTime();
    PlacementSpec.Requirements jc = spec.requirements();
    Filtered f = null;
    boolean hit = false;
    if (cacheEnabled) {
      if (cacheVersion != fleet.version()) {
        cache.clear();
        cacheVersion = fleet.version();
      }
      Key key = new Key(jc, fleet.version(), policy);
      f = cache.get(key);
      if (f != null && t0 - f.createdNanos() > cacheTtlNanos) {
        cache.remove(key);
        f = null;
      }
      if (f != null) {
        hit = true;
        hits++;
      } else {
        misses++;
        f = filter(fleet, jc, t0);
        cache.put(key, f);
      }
    } else {
      misses++;
      f = filter(fleet, jc, t0);
    }

    var candidates = new ArrayList<PlacementDecision.Candidate>(f.passing().length + f.failing().length);
    for (int k = 0; k < f.failing().length; k++) {
      SlotStatus s = fleet.get(f.failing()[k]);
      // An open breaker is told also for a slot that fails other checks (typically: restarting after its failures).
      int open = circuitOpen.contains(s.slotId()) ? PlacementDecision.CIRCUIT_OPEN : 0;
      candidates.add(new PlacementDecision.Candidate(s, f.failedChecks()[k] | open, Double.NaN));
    }
    int need = spec.contextTokens();
    Map<String, Integer> nodeBusy = policy == PlacementPolicy.SPREAD ? nodeBusy(fleet, f.passing()) : null;
    SlotStatus best = null;
    double bestScore = Double.NEGATIVE_INFINITY;
    for (int i : f.passing()) {
      SlotStatus s = fleet.get(i);
      if (s.contextPerSequence() < need) {
        candidates.add(new PlacementDecision.Candidate(s, PlacementDecision.CONTEXT, Double.NaN));
        continue;
      }
      if (circuitOpen.contains(s.slotId())) {
        candidates.add(new PlacementDecision.Candidate(s, PlacementDecision.CIRCUIT_OPEN, Double.NaN));
        continue;
      }
      if (needFreeSequence && s.slotsFree() <= 0) {
        candidates.add(new PlacementDecision.Candidate(s, PlacementDecision.BUSY, Double.NaN));
        continue;
      }
      double score = score(s, nodeBusy);
      candidates.add(new PlacementDecision.Candidate(s, 0, score));
      if (score > bestScore) { // passing is in slot id order: on a tie the lower id stays
        bestScore = score;
        best = s;
      }
    }
    DalangError error = best == null ? rejection(spec, candidates) : null;
    return new PlacementDecision(runId, tenantId, spec, jc, policy, fleet.version(), hit, candidates,
        best == null ? null : best.slotId(), error, time.epochMillis(), time.nanoTime() - t0);
  }

  private static Filtered filter(FleetTable fleet, PlacementSpec.Requirements jc, long now) {
    int[] serving = fleet.slotsOf(jc.modelId());
    int[] passing = new int[serving.length];
    int[] failing = new int[serving.length];
    int[] checks = new int[serving.length];
    int p = 0;
    int n = 0;
    int floor = jc.contextFloor();
    for (int i : serving) {
      SlotStatus s = fleet.get(i);
      int failed = 0;
      if (!jc.pools().contains(s.poolId())) failed |= PlacementDecision.POOL;
      if (!s.ready()) failed |= PlacementDecision.STATE;
      if (s.contextPerSequence() < floor) failed |= PlacementDecision.CONTEXT;
      if (!jc.minComputeCapability().isEmpty()
          && (s.computeCapability().isEmpty() || SlotFeasibility.compareCapability(s.computeCapability(), jc.minComputeCapability()) < 0)) {
        failed |= PlacementDecision.COMPUTE;
      }
      if (!jc.quantizations().isEmpty() && !jc.quantizations().contains(s.quantization())) failed |= PlacementDecision.QUANTIZATION;
      if (RunTask.of(s.extensions()) != RunTask.of(jc.extensions())) failed |= PlacementDecision.TASK;
      else if (!s.extensions().containsAll(jc.extensions())) failed |= PlacementDecision.EXTENSIONS;
      if (failed == 0) {
        passing[p++] = i;
      } else {
        failing[n] = i;
        checks[n++] = failed;
      }
    }
    return new Filtered(java.util.Arrays.copyOf(passing, p), java.util.Arrays.copyOf(failing, n), java.util.Arrays.copyOf(checks, n), now);
  }

  private double score(SlotStatus s, Map<String, Integer> nodeBusy) {
    double total = Math.max(1, s.slotsTotal());
    double free = s.slotsFree();
    double queued = s.queued();
    return switch (policy) {
      case LEAST_LOADED -> (free - queued) / total;
      case BIN_PACK -> free > 0 ? 1 + (total - free) / total : -queued / total;
      // Whole sequences busy on the node first (×4 keeps the fraction from outweighing one sequence).
      case SPREAD -> -4.0 * nodeBusy.get(s.nodeId()) + (free - queued) / (total + queued);
    };
  }

  private static Map<String, Integer> nodeBusy(FleetTable fleet, int[] passing) {
    var busy = new HashMap<String, Integer>();
    for (int i : passing) {
      SlotStatus s = fleet.get(i);
      busy.merge(s.nodeId(), Math.max(0, s.slotsTotal() - s.slotsFree()) + s.queued(), Integer::sum);
    }
    return busy;
  }

  /**
   * The typed error for a spec no slot can take, chosen by what could change: a slot in the tenant's
   * pools that only is not Ready yet may become Ready (retriable {@code no_ready_slot}); a spec that
   * fits no slot's context is the request's to fix ({@code context_length_exceeded}); any other
   * mismatch ({@code no_feasible_slot}) names every slot and why. Feasible slots that are only busy make it
   * {@code capacity_exhausted}: the run can wait for one. Feasible slots whose circuit breaker is open make
   * it {@code engine_unavailable}: waiting would take the breaker's open duration, falling back is better.
   */
  private static DalangError rejection(PlacementSpec spec, List<PlacementDecision.Candidate> candidates) {
    var inPools = candidates.stream().filter(c -> (c.failed() & PlacementDecision.POOL) == 0).toList();
    if (inPools.isEmpty()) {
      return DalangError.of(ErrorCode.NO_READY_SLOT, "no slot of model '" + spec.modelId() + "' is live in the tenant's pools yet; retry shortly");
    }
    if (inPools.stream().anyMatch(c -> c.failed() == PlacementDecision.BUSY)) {
      return DalangError.of(ErrorCode.CAPACITY_EXHAUSTED, "every slot of model '" + spec.modelId() + "' that can serve the run is busy");
    }
    int openOrRestarting = PlacementDecision.CIRCUIT_OPEN | PlacementDecision.STATE;
    if (inPools.stream().anyMatch(c -> (c.failed() & PlacementDecision.CIRCUIT_OPEN) != 0 && (c.failed() & ~openOrRestarting) == 0)) {
      return DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "every slot of model '" + spec.modelId()
          + "' that could serve the run has its circuit breaker open after repeated engine failures (" + describe(spec, inPools) + ")");
    }
    if (inPools.stream().anyMatch(c -> c.failed() == PlacementDecision.STATE)) {
      return DalangError.of(ErrorCode.NO_READY_SLOT, "model '" + spec.modelId() + "' has no Ready slot right now ("
          + describe(spec, inPools) + "); retry shortly");
    }
    if (inPools.stream().allMatch(c -> (c.failed() & PlacementDecision.TASK) != 0)) return wrongTask(spec, inPools);
    if (inPools.stream().allMatch(c -> (c.failed() & (PlacementDecision.EXTENSIONS | PlacementDecision.TASK)) != 0)) return unsupported(spec, inPools);
    if (inPools.stream().allMatch(c -> (c.failed() & PlacementDecision.CONTEXT) != 0)) {
      return DalangError.of(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "the request needs " + spec.contextTokens()
          + " tokens of context (prompt " + spec.promptTokens() + " + max_tokens " + spec.maxTokens() + "), more than any slot serving '"
          + spec.modelId() + "' holds (" + inPools.stream().map(c -> c.slot().slotId() + ": " + c.slot().contextPerSequence()).toList() + ")");
    }
    return DalangError.of(ErrorCode.NO_FEASIBLE_SLOT, "no slot of model '" + spec.modelId() + "' can serve this request: "
        + describe(spec, inPools));
  }

  /**
   * No slot's engine can do what the request asks (tools, a response format, logprobs, several choices):
   * the request's to change, named by its parameters and the engines that lack them.
   */
  private static DalangError unsupported(PlacementSpec spec, List<PlacementDecision.Candidate> inPools) {
    var missing = new java.util.TreeSet<String>();
    var engines = new java.util.TreeSet<String>();
    for (var c : inPools) {
      missing.addAll(c.missingExtensions(spec));
      engines.add(c.slot().engineKind());
    }
    var params = missing.stream().map(io.dalang.protocols.generation.GenerationOptions::parameterOf).sorted().toList();
    return new DalangError(ErrorCode.UNSUPPORTED_PARAMETER, params.stream().map(p -> "'" + p + "'").collect(java.util.stream.Collectors.joining(", "))
        + " cannot be served by the engine of model '" + spec.modelId() + "' (" + String.join(", ", engines)
        + "); leave it out, or use a model whose pool runs an engine that supports it (docs/api.md, \"Compatibility\"). Slots: "
        + describe(spec, inPools),
        params.isEmpty() ? null : params.get(0), 0);
  }

  /**
   * The model's pool runs its engines for another task (embeddings for a chat request, generation for an
   * embedding request): the request's to send to another model, named with the endpoint that serves it.
   */
  private static DalangError wrongTask(PlacementSpec spec, List<PlacementDecision.Candidate> inPools) {
    RunTask asked = RunTask.of(spec.extensions());
    var served = new java.util.TreeSet<String>();
    for (var c : inPools) served.add(RunTask.of(c.slot().extensions()).wire());
    return new DalangError(ErrorCode.UNSUPPORTED_PARAMETER, "model '" + spec.modelId() + "' is served for " + String.join(", ", served)
        + " (its pool's task), not for " + asked.wire() + " (" + asked.endpoint() + "); use a model whose pool has task '" + asked.wire()
        + "'. Slots: " + describe(spec, inPools), "model", 0);
  }

  private static String describe(PlacementSpec spec, List<PlacementDecision.Candidate> cs) {
    var parts = new ArrayList<String>();
    for (var c : cs) parts.add(c.slot().slotId() + ": " + String.join("; ", c.reasons(spec)));
    return String.join(" | ", parts);
  }
}
