package io.dalang.protocols.telemetry;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.generation.SamplerSettings;
import java.util.List;

/**
 * The telemetry of one run, recorded on success and on every failure path. Fields are only ever added
 * (schema evolution is additive); {@code schemaVersion} says which fields a record can have.
 *
 * @param outcome {@code ok} or the error code that ended the run
 * @param runQuality {@code valid} or {@code invalid}; an invalid run never enters KPI aggregates
 * @param qualityReasons why the run is invalid, as stable codes ({@code failed:<code>}, {@code engine_restarted},
 *     ... see {@code ValidRunPolicy} in the actors module); empty (never null) for a valid run. Schema 1 and 2
 *     records spell the failure reason {@code failed: <code>}, with a space
 * @param internalModelSeconds the model's own time on the run: the engine's timings, else (a run that
 *     failed after the engine started it) Dalang's measure from {@code Started} to the engine's last
 *     event, else 0; never more than {@code totalSeconds}
 * @param orchestrationOverheadRatio (total − internal) / total, in [0, 1]; 1 for a run the engine never started
 * @param meanInterTokenMs (since schema 2) mean time between consecutive tokens as the run saw them
 *     arrive, 0 with fewer than two tokens; absent (0) in schema-1 records
 * @param sidecar (since schema 2) the device samples nearest the run's end, one map per GPU in the
 *     sidecar's canonical keys, each with {@code sidecar_parse_status} and {@code sidecar_parse_errors};
 *     for diagnostics, never for gates (only a {@code foreign_processes} count above 0 from the run's start
 *     to its end makes the run invalid); null when the sidecar is off and in schema-1 records
 * @param servedBy (since schema 4) the target that served the run: {@code pool:<id>} (its own pool, or a
 *     fallback pool) or {@code remote:<name>} (a fallback endpoint); for a failed run the last target tried;
 *     null in older records and for a run that never reached a target
 * @param engineVersion (since schema 4) version of the engine instance that ran the generation; null when
 *     no engine started the run, and in older records
 * @param engineDigest (since schema 4) sha256 of that engine's binary (llama-server) or native library
 *     (in-process); null as {@code engineVersion}
 * @param modelDigest (since schema 4) sha256 of the model file the engine loaded; null as {@code engineVersion}
 * @param sampler (since schema 4) the sampler settings the run was asked to generate with, complete (the
 *     values Dalang sends where the request sets none); null in older records. Same engine digest, model
 *     digest and sampler with a seed and temperature 0, and the same prompt: the same bytes
 * @param device (since schema 5) the device of the slot that ran the generation ({@code cpu0},
 *     {@code vulkan0}, a GPU's UUID); null when no engine started the run, and in older records
 * @param gpuLayers (since schema 5) how many of the model's layers that engine held on a GPU device, as
 *     llama.cpp reported while loading; 0 on the CPU and in older records
 * @param modelVersion (since schema 6) the catalog version the slot served ({@code name@v2}); null for a
 *     pool of the {@code model_path} form, when no engine started the run, and in older records
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RunRecord(
    int schemaVersion,
    String runId,
    String tenant,
    String model,
    String pool,
    String slot,
    String engine,
    boolean stream,
    long receivedAtEpochMs,
    double queueMs,
    double ttftMs,
    int promptTokens,
    int completionTokens,
    double tokensPerSecond,
    double internalModelSeconds,
    boolean internalFromEngine,
    double totalSeconds,
    double orchestrationOverheadRatio,
    String outcome,
    String finishReason,
    String runQuality,
    List<String> qualityReasons,
    double meanInterTokenMs,
    List<java.util.Map<String, Object>> sidecar,
    String servedBy,
    String engineVersion,
    String engineDigest,
    String modelDigest,
    SamplerSettings sampler,
    String device,
    int gpuLayers,
    String modelVersion)
    implements CborSerializable {

  /** A record without the model version (schema 5 and before). */
  public RunRecord(int schemaVersion, String runId, String tenant, String model, String pool, String slot, String engine, boolean stream,
      long receivedAtEpochMs, double queueMs, double ttftMs, int promptTokens, int completionTokens, double tokensPerSecond,
      double internalModelSeconds, boolean internalFromEngine, double totalSeconds, double orchestrationOverheadRatio, String outcome,
      String finishReason, String runQuality, List<String> qualityReasons, double meanInterTokenMs, List<java.util.Map<String, Object>> sidecar,
      String servedBy, String engineVersion, String engineDigest, String modelDigest, SamplerSettings sampler, String device, int gpuLayers) {
    this(schemaVersion, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs, promptTokens, completionTokens,
        tokensPerSecond, internalModelSeconds, internalFromEngine, totalSeconds, orchestrationOverheadRatio, outcome, finishReason,
        runQuality, qualityReasons, meanInterTokenMs, sidecar, servedBy, engineVersion, engineDigest, modelDigest, sampler, device, gpuLayers,
        null);
  }

  /** A record without the device fields (schema 4 and before). */
  public RunRecord(int schemaVersion, String runId, String tenant, String model, String pool, String slot, String engine, boolean stream,
      long receivedAtEpochMs, double queueMs, double ttftMs, int promptTokens, int completionTokens, double tokensPerSecond,
      double internalModelSeconds, boolean internalFromEngine, double totalSeconds, double orchestrationOverheadRatio, String outcome,
      String finishReason, String runQuality, List<String> qualityReasons, double meanInterTokenMs, List<java.util.Map<String, Object>> sidecar,
      String servedBy, String engineVersion, String engineDigest, String modelDigest, SamplerSettings sampler) {
    this(schemaVersion, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs, promptTokens, completionTokens,
        tokensPerSecond, internalModelSeconds, internalFromEngine, totalSeconds, orchestrationOverheadRatio, outcome, finishReason,
        runQuality, qualityReasons, meanInterTokenMs, sidecar, servedBy, engineVersion, engineDigest, modelDigest, sampler, null, 0);
  }

  /** A record without {@code served_by} and the determinism signals (schema 3 and before); {@link #withSignals} adds the signals. */
  public RunRecord(int schemaVersion, String runId, String tenant, String model, String pool, String slot, String engine, boolean stream,
      long receivedAtEpochMs, double queueMs, double ttftMs, int promptTokens, int completionTokens, double tokensPerSecond,
      double internalModelSeconds, boolean internalFromEngine, double totalSeconds, double orchestrationOverheadRatio, String outcome,
      String finishReason, String runQuality, List<String> qualityReasons, double meanInterTokenMs, List<java.util.Map<String, Object>> sidecar) {
    this(schemaVersion, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs, promptTokens, completionTokens,
        tokensPerSecond, internalModelSeconds, internalFromEngine, totalSeconds, orchestrationOverheadRatio, outcome, finishReason,
        runQuality, qualityReasons, meanInterTokenMs, sidecar, null, null, null, null, null);
  }

  /** This record with {@code samples} as its sidecar block. */
  public RunRecord withSidecar(List<java.util.Map<String, Object>> samples) {
    return new RunRecord(schemaVersion, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs,
        promptTokens, completionTokens, tokensPerSecond, internalModelSeconds, internalFromEngine, totalSeconds,
        orchestrationOverheadRatio, outcome, finishReason, runQuality, qualityReasons, meanInterTokenMs, samples, servedBy, engineVersion,
        engineDigest, modelDigest, sampler, device, gpuLayers, modelVersion);
  }

  /** This record with another verdict of the valid-run policy. */
  public RunRecord withQuality(String quality, List<String> reasons) {
    return new RunRecord(schemaVersion, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs,
        promptTokens, completionTokens, tokensPerSecond, internalModelSeconds, internalFromEngine, totalSeconds,
        orchestrationOverheadRatio, outcome, finishReason, quality, reasons, meanInterTokenMs, sidecar, servedBy, engineVersion, engineDigest,
        modelDigest, sampler, device, gpuLayers, modelVersion);
  }

  /** This record with the determinism signals: the engine's from its {@code Started}, and the run's sampler settings. */
  public RunRecord withSignals(String engineVersion, String engineDigest, String modelDigest, SamplerSettings sampler) {
    return new RunRecord(schemaVersion, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs,
        promptTokens, completionTokens, tokensPerSecond, internalModelSeconds, internalFromEngine, totalSeconds,
        orchestrationOverheadRatio, outcome, finishReason, runQuality, qualityReasons, meanInterTokenMs, sidecar, servedBy, engineVersion,
        engineDigest, modelDigest, sampler, device, gpuLayers, modelVersion);
  }

  /**
   * 2: {@code mean_inter_token_ms} and {@code sidecar} added. 3: no new field; {@code quality_reasons}
   * are the valid-run policy's codes ({@code failed:<code>} without a space, and the others). 4:
   * {@code served_by}, and the determinism signals {@code engine_version}, {@code engine_digest},
   * {@code model_digest}, {@code sampler}. 5: {@code device} and {@code gpu_layers}. 6: {@code model_version}.
   */
  public static final int SCHEMA_VERSION = 6;
}
