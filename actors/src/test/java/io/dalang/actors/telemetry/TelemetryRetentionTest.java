package io.dalang.actors.telemetry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.telemetry.RunRecord;
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

/** The in-memory ring of recent run records is bounded in bytes as well as in count. */
class TelemetryRetentionTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** A record whose JSON is about {@code modelChars} long, as a run with a long model name would be. */
  static RunRecord run(String id, int modelChars) {
    return new RunRecord(RunRecord.SCHEMA_VERSION, id, "t", "m".repeat(modelChars), "p", "s", "e", true, 1, 0, 1, 1, 2, 3, 0.1, true, 0.2,
        0.5, "ok", "stop", "valid", List.of(), 1.0, null);
  }

  static RunRecord get(ActorRef<TelemetryActor.Command> telemetry, String id) {
    TestProbe<TelemetryActor.RunLookup> probe = testKit.createTestProbe();
    telemetry.tell(new TelemetryActor.GetRun(id, "t", probe.getRef()));
    return probe.receiveMessage().run();
  }

  @Test
  void theOldestRecordsGoWhenTheirBytesPassTheBoundAndTheFileKeepsThemAll(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("runs.jsonl");
    // Room for the count (100), not for the bytes: each record is over 2 KiB, the bound 8 KiB.
    var telemetry = testKit.spawn(TelemetryActor.create(file, 100, 8 * 1024, new SimpleMeterRegistry(), "off", Duration.ofSeconds(2)));
    for (int i = 0; i < 10; i++) telemetry.tell(new TelemetryActor.RecordRun(run("run_" + i, 2048)));
    assertNotNull(get(telemetry, "run_9"));
    assertNotNull(get(telemetry, "run_7"));
    assertNull(get(telemetry, "run_0"), "the oldest records left memory");
    assertNull(get(telemetry, "run_5"));
    assertEquals(10, Files.readAllLines(file).size(), "every record is still in the runs file");

    // The same bound applies to what a restart reads back.
    testKit.stop(telemetry);
    var again = testKit.spawn(TelemetryActor.create(file, 100, 8 * 1024, new SimpleMeterRegistry(), "off", Duration.ofSeconds(2)));
    assertNotNull(get(again, "run_9"));
    assertNull(get(again, "run_3"));
  }
}
