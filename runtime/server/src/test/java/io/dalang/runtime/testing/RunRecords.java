package io.dalang.runtime.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Checks of run records as {@code GET /v1/runs/{id}} returns them, shared by the end-to-end tests. */
public final class RunRecords {
  private RunRecords() {}

  /** The record's {@code quality_reasons}, which must be an array (never null or absent). */
  public static List<String> reasons(JsonNode run) {
    JsonNode r = run.get("quality_reasons");
    assertTrue(r != null && r.isArray(), "quality_reasons is always an array: " + run);
    var out = new ArrayList<String>();
    r.forEach(n -> out.add(n.asText()));
    return out;
  }

  /**
   * Model time and overhead ratio are present and sane ({@code 0 ≤ internal ≤ total}, ratio in [0, 1]
   * and what its definition says), and the verdict matches the reasons.
   */
  public static void assertSane(JsonNode run) {
    for (String f : List.of("internal_model_seconds", "total_seconds", "orchestration_overhead_ratio")) {
      assertTrue(run.hasNonNull(f) && run.get(f).isNumber() && Double.isFinite(run.get(f).asDouble()), f + " in " + run);
    }
    double internal = run.get("internal_model_seconds").asDouble();
    double total = run.get("total_seconds").asDouble();
    double ratio = run.get("orchestration_overhead_ratio").asDouble();
    assertTrue(internal >= 0 && internal <= total, run.toString());
    assertTrue(ratio >= 0 && ratio <= 1, run.toString());
    assertEquals(total > 0 ? (total - internal) / total : 1, ratio, 1e-9, run.toString());
    assertEquals(reasons(run).isEmpty() ? "valid" : "invalid", run.get("run_quality").asText(), run.toString());
  }

  /** A record that failed with {@code outcome}, is invalid for these reasons exactly, and is sane. */
  public static void assertFailed(JsonNode run, String outcome, List<String> reasons) {
    assertEquals(outcome, run.get("outcome").asText(), run.toString());
    assertEquals(reasons, reasons(run), run.toString());
    assertEquals("invalid", run.get("run_quality").asText());
    assertSane(run);
  }

  /** A successful, valid record with the engine's timings, and sane. */
  public static void assertValid(JsonNode run) {
    assertEquals("ok", run.get("outcome").asText(), run.toString());
    assertEquals(List.of(), reasons(run), run.toString());
    assertSane(run);
    assertTrue(run.get("internal_model_seconds").asDouble() > 0, run.toString());
  }
}
