package io.dalang.actors.telemetry;

import io.dalang.gpu.GpuSidecar;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.telemetry.RunRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one place that decides whether a run's timings describe the model serving a request, and so may
 * enter KPI aggregates ({@code run_quality = valid}), or not ({@code invalid}) and why. A run is
 * invalid when any reason applies; the reasons are stable machine-readable codes, listed in the order
 * of the constants below. There is no switch that lets an invalid run into the KPIs.
 *
 * <p>The run actor knows everything but the device: {@link #reasons} judges what it saw. The telemetry
 * actor holds the sidecar's samples and adds {@link #SIDECAR_CONTENTION} with {@link #withSidecar}.
 */
public final class ValidRunPolicy {
  public static final String VALID = "valid";
  public static final String INVALID = "invalid";

  /** The run ended with an error: {@code failed:<error code>}, e.g. {@code failed:timeout}. */
  public static final String FAILED = "failed:";
  /** A warm-up generation (its run id starts with {@link #WARMUP_RUN_PREFIX}): cold caches, no client. */
  public static final String WARMUP = "warmup";
  /**
   * The slot's engine died, was restarted or stopped while the run was on it, or the run started on
   * another engine instance than the one it was dispatched to (it waited through a reload).
   */
  public static final String ENGINE_RESTARTED = "engine_restarted";
  /**
   * The client did not get the whole stream: it went away or read too slowly before the end; or the
   * engine's stream was not whole ({@code End} without {@code Started}).
   */
  public static final String TRUNCATED_STREAM = "truncated_stream";
  /** {@code End} counts fewer completion tokens than the run saw arrive: the engine's count cannot be right. */
  public static final String USAGE_MISMATCH = "usage_mismatch";
  /**
   * The run ended normally but the engine reported no model time; its {@code internal_model_seconds}
   * is then Dalang's own measure and its overhead ratio not comparable with other runs'.
   */
  public static final String ENGINE_TIMINGS_MISSING = "engine_timings_missing";
  /** A device sample from the run's start to its end shows a GPU process that is not Dalang's. */
  public static final String SIDECAR_CONTENTION = "sidecar_contention";

  /** Engine actors name their warm-up generations with this prefix; real run ids start with {@code run_}. */
  public static final String WARMUP_RUN_PREFIX = "warmup-";

  private ValidRunPolicy() {}

  /**
   * What the run actor saw of a run besides its terminal event.
   *
   * @param clientGone the client went away, or read too slowly, before the run ended
   * @param dispatchedRestarts the slot's restart count when the run was dispatched to it; -1 if never
   * @param started the engine's {@code Started} arrived
   * @param startedRestarts the restart count of the engine instance that started the run (from {@code Started})
   * @param tokensSeen tokens that arrived at the run
   */
  public record Observed(boolean clientGone, int dispatchedRestarts, boolean started, int startedRestarts, int tokensSeen) {}

  /** The reasons a run with this terminal event is invalid; empty for a valid run. */
  public static List<String> reasons(String runId, GenerationEvent terminal, Observed seen) {
    var reasons = new ArrayList<String>();
    if (terminal instanceof GenerationEvent.Failed f) reasons.add(FAILED + f.error().code().code());
    if (runId.startsWith(WARMUP_RUN_PREFIX)) reasons.add(WARMUP);
    boolean otherEngine = seen.started() && seen.dispatchedRestarts() >= 0 && seen.startedRestarts() != seen.dispatchedRestarts();
    if (terminal instanceof GenerationEvent.Failed f && f.engineLost() || otherEngine) reasons.add(ENGINE_RESTARTED);
    boolean ended = terminal instanceof GenerationEvent.End;
    if (seen.clientGone() || ended && !seen.started()) reasons.add(TRUNCATED_STREAM);
    if (terminal instanceof GenerationEvent.End end) {
      if (end.usage().completionTokens() < seen.tokensSeen()) reasons.add(USAGE_MISMATCH);
      if (!(end.timings().internalModelSeconds() > 0)) reasons.add(ENGINE_TIMINGS_MISSING);
    }
    return List.copyOf(reasons);
  }

  public static String quality(List<String> reasons) {
    return reasons.isEmpty() ? VALID : INVALID;
  }

  /**
   * The record judged against the device samples taken from its start to its end ({@code rounds}: one
   * list of per-GPU samples per sampling round): with {@link #SIDECAR_CONTENTION} added when one of
   * them counts a {@link GpuSidecar#FOREIGN_PROCESSES foreign process}. A sample without that count
   * says nothing either way.
   */
  public static RunRecord withSidecar(RunRecord r, List<List<Map<String, Object>>> rounds) {
    if (!contention(rounds) || r.qualityReasons().contains(SIDECAR_CONTENTION)) return r;
    var reasons = new ArrayList<>(r.qualityReasons());
    reasons.add(SIDECAR_CONTENTION);
    return r.withQuality(INVALID, List.copyOf(reasons));
  }

  static boolean contention(List<List<Map<String, Object>>> rounds) {
    return rounds.stream().flatMap(List::stream)
        .anyMatch(s -> s.get(GpuSidecar.FOREIGN_PROCESSES) instanceof Number n && n.intValue() > 0);
  }
}
