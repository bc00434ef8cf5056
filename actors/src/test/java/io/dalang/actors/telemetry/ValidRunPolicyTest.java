package io.dalang.actors.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.dalang.gpu.GpuSidecar;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.Usage;
import io.dalang.protocols.telemetry.RunRecord;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The valid-run policy as a pure function of what a run saw. */
class ValidRunPolicyTest {
  static final EngineTimings TIMED = new EngineTimings(2, 40, true);
  /** Dispatched to and started on the slot's engine after its 3rd restart, 8 tokens seen. */
  static final ValidRunPolicy.Observed WHOLE = new ValidRunPolicy.Observed(false, 3, true, 3, 8);

  static GenerationEvent.End end(int completion, EngineTimings timings) {
    return new GenerationEvent.End("run_a", "length", new Usage(5, completion), timings);
  }

  static GenerationEvent.Failed failed(ErrorCode code) {
    return new GenerationEvent.Failed("run_a", DalangError.of(code, "x"), 3, EngineTimings.NONE);
  }

  static List<String> reasons(GenerationEvent terminal, ValidRunPolicy.Observed seen) {
    return ValidRunPolicy.reasons("run_a", terminal, seen);
  }

  @Test
  void aWholeRunWithTheEnginesTimingsIsValidWithNoReasons() {
    var r = reasons(end(8, TIMED), WHOLE);
    assertEquals(List.of(), r);
    assertEquals(ValidRunPolicy.VALID, ValidRunPolicy.quality(r));
  }

  @Test
  void aMeasuredButNotEngineReportedTimingCountsAsTimed() {
    assertEquals(List.of(), reasons(end(8, new EngineTimings(2, 40, false)), WHOLE), "the in-process engine measures around the native calls");
  }

  @Test
  void everyFailureIsInvalidWithItsErrorCode() {
    for (ErrorCode code : List.of(ErrorCode.TIMEOUT, ErrorCode.QUOTA_EXCEEDED, ErrorCode.ENGINE_FAILED, ErrorCode.NO_READY_SLOT)) {
      var r = reasons(failed(code), new ValidRunPolicy.Observed(false, -1, false, 0, 0));
      assertEquals(List.of("failed:" + code.code()), r);
      assertEquals(ValidRunPolicy.INVALID, ValidRunPolicy.quality(r));
    }
  }

  @Test
  void aClientThatWentAwayTruncatedTheStreamEvenIfTheEngineFinished() {
    var gone = new ValidRunPolicy.Observed(true, 3, true, 3, 8);
    assertEquals(List.of("failed:cancelled", "truncated_stream"), reasons(failed(ErrorCode.CANCELLED), gone));
    assertEquals(List.of("truncated_stream"), reasons(end(8, TIMED), gone));
  }

  @Test
  void anEndWithoutStartedIsATruncatedStream() {
    assertEquals(List.of("truncated_stream"), reasons(end(0, TIMED), new ValidRunPolicy.Observed(false, 3, false, 0, 0)));
  }

  @Test
  void anEngineLostDuringTheRunMarksItRestarted() {
    var lost = failed(ErrorCode.ENGINE_FAILED).withEngineLost();
    assertEquals(List.of("failed:engine_failed", "engine_restarted"), reasons(lost, WHOLE));
  }

  @Test
  void aRunStartedOnAnotherEngineInstanceThanItWasDispatchedToWaitedThroughARestart() {
    assertEquals(List.of("engine_restarted"), reasons(end(8, TIMED), new ValidRunPolicy.Observed(false, 3, true, 4, 8)));
    assertEquals(List.of(), reasons(end(8, TIMED), new ValidRunPolicy.Observed(false, -1, true, 4, 8)), "never dispatched: nothing to compare");
  }

  @Test
  void aUsageThatCountsFewerTokensThanArrivedIsAMismatchButMoreIsNot() {
    assertEquals(List.of("usage_mismatch"), reasons(end(7, TIMED), WHOLE));
    // llama-server merges pieces (split UTF-8, held-back stop strings) into one chunk: more usage than chunks is normal.
    assertEquals(List.of(), reasons(end(9, TIMED), WHOLE));
  }

  @Test
  void anEndWithoutModelTimeHasItsTimingsMissing() {
    assertEquals(List.of("engine_timings_missing"), reasons(end(8, EngineTimings.NONE), WHOLE));
    assertEquals(List.of("engine_timings_missing"), reasons(end(8, new EngineTimings(Double.NaN, 0, true)), WHOLE));
  }

  @Test
  void aWarmupRunIdIsMarkedEvenIfOneEverBecameARun() {
    var r = ValidRunPolicy.reasons(ValidRunPolicy.WARMUP_RUN_PREFIX + "demo-0", end(8, TIMED), WHOLE);
    assertEquals(List.of("warmup"), r);
  }

  @Test
  void reasonsComeInTheDocumentedOrder() {
    var everything = ValidRunPolicy.reasons("warmup-s", failed(ErrorCode.CANCELLED).withEngineLost(), new ValidRunPolicy.Observed(true, 1, true, 2, 3));
    assertEquals(List.of("failed:cancelled", "warmup", "engine_restarted", "truncated_stream"), everything);
  }

  static RunRecord valid() {
    return new RunRecord(RunRecord.SCHEMA_VERSION, "run_a", "t", "m", "p", "s", "e", true, 1, 0, 1, 1, 2, 3, 0.1, true, 0.2, 0.5,
        "ok", "stop", "valid", List.of(), 1.0, null);
  }

  static Map<String, Object> sample(Object foreign) {
    return foreign == null ? Map.of(GpuSidecar.STATUS, "ok") : Map.of(GpuSidecar.STATUS, "ok", GpuSidecar.FOREIGN_PROCESSES, foreign);
  }

  @Test
  void aForeignGpuProcessInAnySampleOfTheRunIsContention() {
    var r = ValidRunPolicy.withSidecar(valid(), List.of(List.of(sample(0)), List.of(sample(0), sample(1))));
    assertEquals("invalid", r.runQuality());
    assertEquals(List.of("sidecar_contention"), r.qualityReasons());
    var failed = valid().withQuality("invalid", List.of("failed:timeout"));
    assertEquals(List.of("failed:timeout", "sidecar_contention"),
        ValidRunPolicy.withSidecar(failed, List.of(List.of(sample(2)))).qualityReasons());
  }

  @Test
  void samplesWithoutAForeignCountOrWithNoneLeaveTheRunAsItWas() {
    var r = valid();
    assertSame(r, ValidRunPolicy.withSidecar(r, List.of(List.of(sample(null)), List.of(sample(0)), List.of(GpuSidecar.absent()))));
    assertSame(r, ValidRunPolicy.withSidecar(r, List.of()));
  }
}
