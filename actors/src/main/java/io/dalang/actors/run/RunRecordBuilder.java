package io.dalang.actors.run;

import io.dalang.protocols.generation.SamplerSettings;
import io.dalang.protocols.telemetry.RunRecord;
import java.util.List;
import java.util.Map;

/**
 * A {@link RunRecord} set field by field, by name, for the current schema: the record has 31
 * components, and a positional call is easy to get wrong by one.
 */
final class RunRecordBuilder {
  private final String runId;
  private String tenant;
  private String model;
  private String pool;
  private String slot;
  private String engine;
  private boolean stream;
  private long receivedAtEpochMs;
  private double queueMs;
  private double ttftMs;
  private int promptTokens;
  private int completionTokens;
  private double tokensPerSecond;
  private RunTimes times = RunTimes.of(0, io.dalang.protocols.generation.EngineTimings.NONE, 0);
  private String outcome;
  private String finishReason;
  private String runQuality;
  private List<String> qualityReasons = List.of();
  private double meanInterTokenMs;
  private List<Map<String, Object>> sidecar;
  private String servedBy;
  private String engineVersion;
  private String engineDigest;
  private String modelDigest;
  private SamplerSettings sampler;
  private String device;
  private int gpuLayers;

  RunRecordBuilder(String runId) {
    this.runId = runId;
  }

  RunRecordBuilder tenant(String v) { tenant = v; return this; }
  RunRecordBuilder model(String v) { model = v; return this; }
  RunRecordBuilder pool(String v) { pool = v; return this; }
  RunRecordBuilder slot(String v) { slot = v; return this; }
  RunRecordBuilder engine(String v) { engine = v; return this; }
  RunRecordBuilder stream(boolean v) { stream = v; return this; }
  RunRecordBuilder receivedAtEpochMs(long v) { receivedAtEpochMs = v; return this; }
  RunRecordBuilder queueMs(double v) { queueMs = v; return this; }
  RunRecordBuilder ttftMs(double v) { ttftMs = v; return this; }
  RunRecordBuilder promptTokens(int v) { promptTokens = v; return this; }
  RunRecordBuilder completionTokens(int v) { completionTokens = v; return this; }
  RunRecordBuilder tokensPerSecond(double v) { tokensPerSecond = v; return this; }
  /** Total and model time, and the overhead ratio between them. */
  RunRecordBuilder times(RunTimes v) { times = v; return this; }
  RunRecordBuilder outcome(String v) { outcome = v; return this; }
  RunRecordBuilder finishReason(String v) { finishReason = v; return this; }
  RunRecordBuilder quality(String verdict, List<String> reasons) { runQuality = verdict; qualityReasons = reasons; return this; }
  RunRecordBuilder meanInterTokenMs(double v) { meanInterTokenMs = v; return this; }
  RunRecordBuilder sidecar(List<Map<String, Object>> v) { sidecar = v; return this; }
  RunRecordBuilder servedBy(String v) { servedBy = v; return this; }
  RunRecordBuilder engineVersion(String v) { engineVersion = v; return this; }
  RunRecordBuilder engineDigest(String v) { engineDigest = v; return this; }
  RunRecordBuilder modelDigest(String v) { modelDigest = v; return this; }
  RunRecordBuilder sampler(SamplerSettings v) { sampler = v; return this; }
  RunRecordBuilder device(String v) { device = v; return this; }
  RunRecordBuilder gpuLayers(int v) { gpuLayers = v; return this; }

  RunRecord build() {
    return new RunRecord(RunRecord.SCHEMA_VERSION, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs,
        promptTokens, completionTokens, tokensPerSecond, times.internalSeconds(), times.internalFromEngine(), times.totalSeconds(),
        times.overheadRatio(), outcome, finishReason, runQuality, qualityReasons, meanInterTokenMs, sidecar, servedBy, engineVersion,
        engineDigest, modelDigest, sampler, device, gpuLayers);
  }
}
