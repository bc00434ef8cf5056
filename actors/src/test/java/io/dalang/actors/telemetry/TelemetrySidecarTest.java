package io.dalang.actors.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.telemetry.RunRecord;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sidecar file's samples end up in the run records; a broken file never breaks recording. */
class TelemetrySidecarTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  static RunRecord run(String id) {
    return new RunRecord(RunRecord.SCHEMA_VERSION, id, "t", "m", "p", "s", "e", true, 1, 0, 1, 1, 2, 3, 0.1, true, 0.2, 0.5,
        "ok", "stop", "valid", List.of(), 1.0, null);
  }

  RunRecord recordAndRead(Path dir, String sidecar, String id) throws Exception {
    var telemetry = testKit.spawn(TelemetryActor.create(dir.resolve("runs-" + id + ".jsonl"), 10, new SimpleMeterRegistry(), sidecar,
        Duration.ofMillis(50)));
    Thread.sleep(300); // a few sampling rounds
    telemetry.tell(new TelemetryActor.RecordRun(run(id)));
    TestProbe<TelemetryActor.RunLookup> probe = testKit.createTestProbe();
    telemetry.tell(new TelemetryActor.GetRun(id, "t", probe.getRef()));
    return probe.receiveMessage().run();
  }

  @Test
  void aSidecarFilesSamplesAreRecordedWithTheRun(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("gpu.csv");
    Files.writeString(csv, """
        index, name, utilization.gpu [%], memory.used [MiB], power.draw [W], temperature.gpu, clocks.sm [MHz]
        0, NVIDIA L4, 71 %, 10240 MiB, 61.50 W, 55, 2040 MHz
        """);
    var r = recordAndRead(dir, "file:" + csv, "run_a");
    assertEquals("ok", r.sidecar().get(0).get("sidecar_parse_status"), r.sidecar().toString());
    assertEquals(61.5, r.sidecar().get(0).get("power_draw_w"));
  }

  @Test
  void aMissingSidecarFileIsAFailedSampleNotAFailedRun(@TempDir Path dir) throws Exception {
    var r = recordAndRead(dir, "file:" + dir.resolve("nope.csv"), "run_b");
    assertEquals("ok", r.outcome());
    assertEquals("failed", r.sidecar().get(0).get("sidecar_parse_status"));
  }
}
