package io.dalang.actors.run;

import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.telemetry.ValidRunPolicy;
import io.dalang.engine.RemoteOpenAiEndpoint;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
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
  private RunTimes times = RunTimes.of(0, EngineTimings.NONE, 0);
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
  private String modelVersion;
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
  RunRecordBuilder modelVersion(String v) { modelVersion = v; return this; }

  RunRecord build() {
    return new RunRecord(RunRecord.SCHEMA_VERSION, runId, tenant, model, pool, slot, engine, stream, receivedAtEpochMs, queueMs, ttftMs,
        promptTokens, completionTokens, tokensPerSecond, times.internalSeconds(), times.internalFromEngine(), times.totalSeconds(),
        times.overheadRatio(), outcome, finishReason, runQuality, qualityReasons, meanInterTokenMs, sidecar, servedBy, engineVersion,
        engineDigest, modelDigest, sampler, device, gpuLayers, modelVersion);
  }

  /** The record of {@code spec}'s run, ended by {@code terminal} at {@code now}, from what its actor and relay saw. */
  static RunRecord of(RunSpec spec, RunState.Target target, RunState.Slot slot, GenerationEvent terminal, boolean clientGone, long now) {
    RunRelay relay = target.relay();
    SlotStatus s = slot == null ? null : slot.status();
    EngineTimings timings = EngineTimings.NONE;
    int promptTokens = 0;
    int completion = relay.tokens();
    long firstTokenNanos = relay.firstTokenNanos();
    String outcome = "ok";
    String finish = null;
    if (terminal instanceof GenerationEvent.End end) {
      timings = end.timings();
      promptTokens = end.usage().promptTokens();
      completion = end.usage().completionTokens();
      finish = end.finishReason();
    } else if (terminal instanceof GenerationEvent.Failed f) {
      timings = f.timings();
      outcome = f.error().code().code();
    }
    // What Dalang saw of the engine's work when the engine's own timings say nothing (most failures).
    double measured = relay.started() ? Math.max(0, relay.lastEventNanos() - relay.startedNanos()) / 1e9 : 0;
    var reasons = ValidRunPolicy.reasons(spec.runId(), terminal, new ValidRunPolicy.Observed(clientGone,
        s != null ? s.restarts() : -1, relay.started(), relay.engineRestarts(), relay.tokens()));
    double genSeconds = timings.predictedMs() > 0 ? timings.predictedMs() / 1000
        : firstTokenNanos > 0 ? (now - firstTokenNanos) / 1e9 : 0;
    int seen = relay.tokens();
    var started = relay.startedEvent(); // its determinism signals, as the engine actor stamped them; null: no engine started the run
    return new RunRecordBuilder(spec.runId())
        .tenant(spec.tenantId())
        .model(spec.modelId())
        .pool(s != null ? s.poolId() : null)
        .slot(s != null ? s.slotId() : null)
        .engine(s != null ? s.engineKind() : target.isPool() ? null : RemoteOpenAiEndpoint.KIND)
        .stream(spec.stream())
        .receivedAtEpochMs(spec.receivedAtEpochMs())
        .queueMs(target.poolQueueMs() + relay.queueMs())
        .ttftMs(firstTokenNanos > 0 ? (firstTokenNanos - spec.receivedAtNanos()) / 1e6 : 0)
        .promptTokens(promptTokens)
        .completionTokens(completion)
        .tokensPerSecond(genSeconds > 0 && completion > 1 ? completion / genSeconds : 0)
        .times(RunTimes.of((now - spec.receivedAtNanos()) / 1e9, timings, measured))
        .outcome(outcome)
        .finishReason(finish)
        .quality(ValidRunPolicy.quality(reasons), reasons)
        .meanInterTokenMs(seen > 1 ? (relay.lastTokenNanos() - firstTokenNanos) / 1e6 / (seen - 1) : 0)
        .servedBy(target.servedBy())
        .engineVersion(started != null ? started.engineVersion() : null)
        .engineDigest(started != null ? started.engineDigest() : null)
        .modelDigest(started != null ? started.modelDigest() : null)
        .sampler(SamplerSettings.of(spec.request()))
        .device(started != null ? started.device() : null)
        .gpuLayers(started != null ? started.gpuLayers() : 0)
        .modelVersion(started != null ? started.modelVersion() : null)
        .build();
  }
}
