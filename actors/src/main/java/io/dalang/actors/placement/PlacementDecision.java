package io.dalang.actors.placement;

import io.dalang.protocols.error.DalangError;
import java.util.ArrayList;
import java.util.List;

/**
 * One placement decision, kept so that it can be told afterwards ({@code GET /v1/placements/{run_id}}):
 * every slot of the model that was considered, why each rejected one failed, the score of each feasible
 * one, and the choice, or the typed error when there was none.
 *
 * @param requirements the spec's requirements, the decision cache's key with the snapshot version and policy
 * @param snapshotVersion the version of the fleet snapshot the decision was made on
 * @param cacheHit whether the filtering came from the decision cache
 * @param chosen the chosen slot's id, null when the run was rejected
 * @param error why the run was rejected, null when a slot was chosen
 * @param decisionNanos how long deciding took
 */
public record PlacementDecision(String runId, String tenantId, PlacementSpec spec, PlacementSpec.Requirements requirements, PlacementPolicy policy,
    long snapshotVersion, boolean cacheHit, List<Candidate> candidates, String chosen, DalangError error,
    long decidedAtEpochMs, long decisionNanos) {

  /** The requirement class's {@code job_spec_hash}, computed when asked (narration), not per decision. */
  public String specHash() {
    return requirements.hash();
  }

  /** Bits of {@link Candidate#failed()}: which checks a slot failed. */
  public static final int POOL = 1;
  public static final int STATE = 2;
  public static final int CONTEXT = 4;
  public static final int COMPUTE = 8;
  public static final int QUANTIZATION = 16;
  public static final int EXTENSIONS = 32;
  /** Feasible, but no free sequence when one was needed (the run waits in its pool's queue). */
  public static final int BUSY = 64;
  /** Feasible, but its circuit breaker is open after repeated engine failures (or its one half-open probe is out). */
  public static final int CIRCUIT_OPEN = 128;
  /**
   * Its engine runs for another task than the run's ({@link io.dalang.protocols.generation.RunTask}): an
   * embedding slot for a chat run, a generation slot for an embedding run.
   */
  public static final int TASK = 256;

  /**
   * One slot as placement saw it.
   *
   * @param slot its status at the time of the decision
   * @param failed the checks it failed ({@link #POOL} | {@link #STATE} | ...), 0 if feasible
   * @param score its policy score if feasible (higher wins), NaN otherwise
   */
  public record Candidate(SlotStatus slot, int failed, double score) {
    public boolean feasible() {
      return failed == 0;
    }

    /** The extensions {@code spec} needs that this slot's engine lacks, sorted. */
    public java.util.SortedSet<String> missingExtensions(PlacementSpec spec) {
      var missing = new java.util.TreeSet<>(spec.extensions());
      missing.removeAll(slot.extensions());
      return missing;
    }

    /** Why it was rejected, one sentence per failed check, for the spec it was checked against. */
    public List<String> reasons(PlacementSpec spec) {
      var out = new ArrayList<String>(2);
      SlotStatus s = slot;
      if ((failed & BUSY) != 0) out.add("no free sequence (" + s.slotsTotal() + " busy)");
      if ((failed & CIRCUIT_OPEN) != 0) out.add("circuit_open: the slot's circuit breaker is open after repeated engine failures");
      if ((failed & POOL) != 0) out.add("pool '" + s.poolId() + "' is not one of the tenant's pools");
      if ((failed & STATE) != 0) out.add("slot is " + s.state() + ", not Ready");
      if ((failed & CONTEXT) != 0) {
        out.add("needs " + spec.contextTokens() + " tokens of context (prompt " + spec.promptTokens() + " + max_tokens "
            + spec.maxTokens() + "), slot holds " + s.contextPerSequence() + " per sequence");
      }
      if ((failed & COMPUTE) != 0) {
        out.add("needs compute capability " + spec.minComputeCapability() + ", device " + s.deviceId() + " is "
            + (s.computeCapability().isEmpty() ? s.deviceKind() : s.computeCapability()));
      }
      if ((failed & QUANTIZATION) != 0) out.add("model file is " + s.quantization() + ", the run accepts " + spec.quantizations());
      if ((failed & TASK) != 0) {
        out.add("slot serves task '" + io.dalang.protocols.generation.RunTask.of(s.extensions()).wire() + "', the run is '"
            + io.dalang.protocols.generation.RunTask.of(spec.extensions()).wire() + "'");
      }
      if ((failed & EXTENSIONS) != 0) {
        out.add("engine " + s.engineKind() + " lacks " + String.join(", ", missingExtensions(spec)));
      }
      return out;
    }
  }
}
