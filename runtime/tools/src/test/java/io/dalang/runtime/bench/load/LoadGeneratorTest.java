package io.dalang.runtime.bench.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.engine.sim.SimProfile;
import io.dalang.runtime.sim.SimEngineServer;
import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code dalang bench load} against a real {@code dalang sim engine} on loopback, in this JVM. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LoadGeneratorTest {
  static final double TTFT_MS = 40;
  SimEngineServer server;
  final LoadGenerator load = new LoadGenerator(LoadGenerator.newClient());

  @BeforeAll
  void start() {
    server = SimEngineServer.start(new SimProfile(TTFT_MS, 2, 5, 0, 0, 1, 64), "sim", "127.0.0.1", 0);
  }

  @AfterAll
  void stop() {
    if (server != null) server.close();
  }

  LoadSpec spec(int concurrency, double rate, int requests, boolean stream, String model) {
    return new LoadSpec(URI.create(server.baseUrl()), model, null, concurrency, rate, requests, Duration.ZERO, stream,
        LoadSpec.Dist.parse("8"), LoadSpec.Dist.parse("16"), 1, Duration.ofSeconds(30));
  }

  @Test
  void streamedRunCountsEveryRequestAndTokenAndMeasuresTheEnginesTtft() throws Exception {
    LoadReport r = load.run(spec(4, 0, 12, true, "sim"));
    assertEquals(12, r.ok(), r.table());
    assertEquals(0, r.errorCount(), r.table());
    assertEquals(12 * 5, r.outputTokens(), "the engine's --output-tokens 5 cut max_tokens 16");
    assertEquals(12, r.ttft().count());
    assertEquals(12 * 4, r.itl().count(), "4 gaps between 5 tokens");
    assertEquals(12, r.tpot().count());
    // generous: the configured 40 ms plus whatever this machine adds
    double p50 = r.ttft().percentileMs(50);
    assertTrue(p50 >= TTFT_MS * 0.9 && p50 < TTFT_MS + 500, "TTFT p50 " + p50);
    assertTrue(r.e2e().percentileMs(50) >= p50, r.table());
    assertTrue(r.maxInFlight() <= 4, r.table());
    assertTrue(r.table().contains("TTFT"));
  }

  @Test
  void openLoopAndWholeAnswersCount() throws Exception {
    LoadReport r = load.run(spec(0, 50, 10, false, "sim"));
    assertEquals(10, r.ok(), r.table());
    assertEquals(50, r.outputTokens());
    assertEquals(0, r.ttft().count(), "a whole answer has no TTFT");
    assertEquals(10, r.e2e().count());
  }

  @Test
  void errorsAreCountedByKind() throws Exception {
    LoadReport r = load.run(spec(2, 0, 3, true, "no-such-model"));
    assertEquals(0, r.ok());
    assertEquals(3L, r.errors().get("http_404:model_not_found"), r.errors().toString());
  }
}
