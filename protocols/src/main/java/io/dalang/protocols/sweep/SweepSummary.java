package io.dalang.protocols.sweep;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import java.util.List;
import java.util.Map;

/**
 * The result of one quantization sweep ({@code dalang sweep}): what was measured, on what, and what it
 * recommends. Written as JSON (snake_case); read back by {@code dalang kpi check}, {@code dalang compare}
 * and {@code dalang baseline}. Fields are only ever added; {@code schemaVersion} says which a file has.
 *
 * @param sweepId unique id of this sweep ({@code sweep-<utc timestamp>-<short random>})
 * @param createdAt ISO-8601 UTC instant the sweep finished
 * @param reference name of the full-precision variant the others are compared with
 * @param variants every variant measured, the reference first
 * @param recommendation the fastest variant over the adherence floor, from valid runs only
 * @param frontier names of the variants on the throughput/adherence Pareto frontier, fastest first
 * @param includeInvalid whether invalid runs were let into the frontier view ({@code --include-invalid});
 *     never into KPI figures nor, by default, into the recommendation
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SweepSummary(
    int schemaVersion,
    String sweepId,
    String createdAt,
    Provenance provenance,
    String reference,
    List<Variant> variants,
    Recommendation recommendation,
    List<String> frontier,
    boolean includeInvalid) {

  public static final int SCHEMA_VERSION = 1;

  /** The variant called {@code name}, or null. */
  public Variant variant(String name) {
    return variants.stream().filter(v -> v.name().equals(name)).findFirst().orElse(null);
  }

  /**
   * Where the numbers come from: enough to reproduce them, and to refuse comparing unlike with unlike.
   *
   * @param dalangCommit git commit of the Dalang build ({@code unknown} outside a checkout)
   * @param machine host facts: {@code hostname}, {@code os}, {@code arch}, {@code cpus}, {@code memory_mib},
   *     {@code devices} (one string per device)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Provenance(
      String dalangVersion,
      String dalangCommit,
      String engineKind,
      String engineVersion,
      String engineDigest,
      String quantizeDigest,
      String baseModel,
      String baseModelDigest,
      Map<String, Object> machine,
      Preset preset) {}

  /**
   * The workload: a named preset from {@code config/presets/}.
   *
   * @param promptsDigest sha256 of the preset's prompts, in order, so two sweeps can tell whether they
   *     ran the same workload
   * @param affinityPolicy {@code none} (the OS schedules the engine's threads) or {@code pinned} (the
   *     engine's threads are bound to cores 0..threads-1)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Preset(
      String name,
      long seed,
      int threads,
      String affinityPolicy,
      int warmupSteps,
      int maxTokens,
      int repeats,
      int prompts,
      String promptsDigest) {}

  /**
   * One quantization of the base model, loaded into a live slot and measured.
   *
   * @param name the variant's label, e.g. {@code Q4_K_M}, or the base model's type for the reference
   * @param tensorTypes how many tensors of each ggml type the file holds (llama-quantize falls back to
   *     another type for tensors whose rows do not fit a K-quant block)
   * @param runsValid runs that count: not warm-up, not truncated, engine not restarted mid-run
   * @param invalidReasons reason → number of runs excluded for it
   * @param tokensPerSecond mean generation speed of the valid runs, from the engine's own timings
   * @param adherence mean greedy token agreement with the reference over the preset's prompts, 0..1
   *     (1.0 for the reference itself)
   * @param meanFirstDivergence mean token position of the first disagreement with the reference (the
   *     generated length where the whole output agreed)
   * @param exactMatches prompts whose whole output equals the reference's
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Variant(
      String name,
      String modelPath,
      String modelDigest,
      long fileBytes,
      Map<String, Integer> tensorTypes,
      boolean isReference,
      int runsTotal,
      int runsValid,
      Map<String, Integer> invalidReasons,
      double tokensPerSecond,
      double tokensPerSecondP50,
      double ttftMsP50,
      double ttftMsP95,
      double adherence,
      double meanFirstDivergence,
      int exactMatches,
      List<PromptResult> prompts) {}

  /**
   * One prompt of the preset against one variant (its first valid repeat decides adherence).
   *
   * @param firstDivergence token position of the first disagreement with the reference, -1 if none
   * @param agreement fraction of the reference's token positions where this variant produced the same
   *     token
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record PromptResult(
      String promptId,
      int tokens,
      int firstDivergence,
      double agreement,
      double tokensPerSecond,
      boolean valid,
      List<String> qualityReasons) {}

  /**
   * @param variant the recommended variant, null when none passed the floor
   * @param excluded variant → why it was not recommended (under the floor, no valid runs, ...)
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Recommendation(String variant, double adherenceFloor, String reason, Map<String, String> excluded) {}
}
