package io.dalang.actors.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.protocols.generation.SamplerSettings;
import io.dalang.protocols.telemetry.RunRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/** Run records only ever gain fields: records stored by older versions still read, and newer ones too. */
class RunRecordSchemaTest {

  @Test
  void schemaOneRecordsStoredByAnOlderVersionStillRead() throws Exception {
    List<String> lines = fixture("/telemetry/run-records-v1.jsonl");
    RunRecord ok = TelemetryActor.parse(lines.get(0));
    assertEquals(1, ok.schemaVersion());
    assertEquals("run_k3v7q2x4m5n6b7c2d3e4", ok.runId());
    assertEquals(16, ok.completionTokens());
    assertEquals(0.095, ok.orchestrationOverheadRatio(), 1e-12);
    assertEquals(0.0, ok.meanInterTokenMs(), "absent before schema 2");
    RunRecord failed = TelemetryActor.parse(lines.get(1));
    assertEquals("engine_failed", failed.outcome());
    assertEquals(List.of("failed: engine_failed"), failed.qualityReasons());
  }

  @Test
  void schemaThreeRecordsStoredByAnOlderVersionStillRead() throws Exception {
    List<String> lines = fixture("/telemetry/run-records-v3.jsonl");
    RunRecord ok = TelemetryActor.parse(lines.get(0));
    assertEquals(3, ok.schemaVersion());
    assertEquals("llama-server", ok.engine());
    assertEquals(1.2, ok.meanInterTokenMs());
    assertEquals("absent", ok.sidecar().get(0).get("sidecar_parse_status"));
    RunRecord refused = TelemetryActor.parse(lines.get(1));
    assertEquals(List.of("failed:quota_exceeded"), refused.qualityReasons());
    assertNull(refused.slot());
  }

  @Test
  void schemaFourRecordsCarryTheDeterminismSignalsAndReadBackEqual() throws Exception {
    var sampler = new SamplerSettings(11L, 0.0, 1.0, SamplerSettings.TOP_K, SamplerSettings.MIN_P, SamplerSettings.REPEAT_PENALTY, 24,
        List.of("\n\n"));
    RunRecord r = TelemetryActor.parse(fixture("/telemetry/run-records-v3.jsonl").get(0))
        .withSignals("v0.5.0 (de3ff81)", "9f2c0e", "77ab41", sampler);
    String line = new ObjectMapper().writeValueAsString(r);
    assertTrue(line.contains("\"engine_digest\":\"9f2c0e\"") && line.contains("\"sampler\":{\"seed\":11,\"temperature\":0.0,\"top_p\":1.0,"
        + "\"top_k\":40,\"min_p\":0.05,\"repeat_penalty\":1.0,\"max_tokens\":24,\"stop\":[\"\\n\\n\"]}"), line);
    assertEquals(r, TelemetryActor.parse(line));
    assertNull(TelemetryActor.parse(fixture("/telemetry/run-records-v3.jsonl").get(0)).sampler(), "absent before schema 4");
  }

  @Test
  void aRecordFromANewerVersionWithFieldsThisOneDoesNotKnowStillReads() throws Exception {
    String newer = """
        {"schema_version":9,"run_id":"run_x","tenant":"t","model":"m","pool":"p","slot":"s","engine":"e","stream":true,\
        "received_at_epoch_ms":1,"queue_ms":0,"ttft_ms":1,"prompt_tokens":1,"completion_tokens":2,"tokens_per_second":3,\
        "internal_model_seconds":0.1,"internal_from_engine":true,"total_seconds":0.2,"orchestration_overhead_ratio":0.5,\
        "outcome":"ok","finish_reason":"stop","run_quality":"valid","quality_reasons":[],"mean_inter_token_ms":4.5,\
        "some_future_field":{"a":1}}""";
    RunRecord r = TelemetryActor.parse(newer);
    assertEquals(9, r.schemaVersion());
    assertEquals(4.5, r.meanInterTokenMs());
  }

  private List<String> fixture(String resource) throws java.io.IOException {
    return new String(Objects.requireNonNull(getClass().getResourceAsStream(resource)).readAllBytes(), StandardCharsets.UTF_8).lines().toList();
  }
}
