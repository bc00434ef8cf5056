package io.dalang.actors.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.telemetry.RunRecord;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invalid runs, whatever the reason, are counted but never enter a KPI summary (TTFT, inter-token
 * latency, tokens/s, queue time, overhead); there is no setting that lets them in.
 */
class TelemetryKpiTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final List<String> KPIS = List.of("dalang_ttft_ms", "dalang_inter_token_latency_ms", "dalang_tokens_per_second",
      "dalang_queue_ms", "dalang_orchestration_overhead_ratio");

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static RunRecord run(String id, String quality, List<String> reasons) {
    return new RunRecord(RunRecord.SCHEMA_VERSION, id, "t", "m", "p", "s", "e", true, System.currentTimeMillis(), 3, 40, 5, 8, 90,
        0.1, true, 0.12, 0.17, reasons.isEmpty() ? "ok" : "cancelled", "length", quality, reasons, 11, null);
  }

  /** Records the runs and waits until the actor has handled them (a lookup of the last one answers). */
  static void recordAll(ActorRef<TelemetryActor.Command> telemetry, List<RunRecord> runs) {
    runs.forEach(r -> telemetry.tell(new TelemetryActor.RecordRun(r)));
    TestProbe<TelemetryActor.RunLookup> probe = testKit.createTestProbe();
    telemetry.tell(new TelemetryActor.GetRun(runs.get(runs.size() - 1).runId(), "t", probe.getRef()));
    probe.receiveMessage();
  }

  static long count(MeterRegistry metrics, String name) {
    var s = metrics.find(name).summary();
    return s == null ? 0 : s.count();
  }

  @Test
  void invalidRunsOfEveryReasonAreCountedButNeverEnterAKpi(@TempDir Path dir) {
    var metrics = new SimpleMeterRegistry();
    var telemetry = testKit.spawn(TelemetryActor.create(dir.resolve("runs.jsonl"), 100, metrics));
    var invalid = List.of("failed:cancelled", "warmup", "engine_restarted", "truncated_stream", "usage_mismatch",
        "engine_timings_missing", "sidecar_contention");
    var runs = new java.util.ArrayList<RunRecord>();
    for (int i = 0; i < invalid.size(); i++) runs.add(run("run_bad" + i, "invalid", List.of(invalid.get(i))));
    runs.add(run("run_good", "valid", List.of()));
    recordAll(telemetry, runs);
    for (String kpi : KPIS) assertEquals(1, count(metrics, kpi), kpi + " holds the one valid run only");
    assertEquals(8.0, metrics.find("dalang_runs").counters().stream().mapToDouble(c -> c.count()).sum(), "every run is counted");
  }

  @Test
  void aRunDuringWhichTheSidecarSawAForeignGpuProcessIsInvalidAndStaysOutOfTheKpis(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("gpu.csv");
    Files.writeString(csv, """
        index, name, utilization.gpu [%], memory.used [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz], foreign_processes
        0, NVIDIA L4, 97 %, 20480 MiB, 70.00 W, 66, 2040 MHz, 1
        """);
    var metrics = new SimpleMeterRegistry();
    var telemetry = testKit.spawn(TelemetryActor.create(dir.resolve("runs.jsonl"), 100, metrics, "file:" + csv, Duration.ofMillis(50)));
    Thread.sleep(300); // a few sampling rounds
    recordAll(telemetry, List.of(run("run_shared", "valid", List.of())));
    TestProbe<TelemetryActor.RunLookup> probe = testKit.createTestProbe();
    telemetry.tell(new TelemetryActor.GetRun("run_shared", "t", probe.getRef()));
    RunRecord r = probe.receiveMessage().run();
    assertEquals("invalid", r.runQuality());
    assertEquals(List.of("sidecar_contention"), r.qualityReasons());
    assertEquals(1, r.sidecar().get(0).get("foreign_processes"));
    for (String kpi : KPIS) assertEquals(0, count(metrics, kpi), kpi);

    Files.writeString(csv, """
        index, name, utilization.gpu [%], memory.used [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz], foreign_processes
        0, NVIDIA L4, 97 %, 20480 MiB, 70.00 W, 66, 2040 MHz, 0
        """);
    Thread.sleep(300);
    recordAll(telemetry, List.of(run("run_alone", "valid", List.of())));
    telemetry.tell(new TelemetryActor.GetRun("run_alone", "t", probe.getRef()));
    assertEquals("valid", probe.receiveMessage().run().runQuality(), "started after the other process left");
  }
}
