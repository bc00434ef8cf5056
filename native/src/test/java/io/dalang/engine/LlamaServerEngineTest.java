package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.testing.TestModels;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LlamaServerEngineTest extends EngineContract {

  @Override
  protected Engine newEngine(EngineConfig config) {
    var entry = TestModels.llamaServer();
    return new LlamaServerEngine(config, TestModels.llamaServerBinary(),
        new EngineIdentity(LlamaServerEngine.KIND, entry.version(), entry.binarySha256()));
  }

  @Test
  void reportsTheServersOwnTimings() throws Exception {
    var end = (GenerationEvent.End) run(text("tm", "The tree is", 8, 1L)).stream().filter(e -> e instanceof GenerationEvent.End).findFirst().orElseThrow();
    assertTrue(end.timings().reportedByEngine());
    assertTrue(end.timings().predictedMs() > 0);
  }

  @Test
  void aKilledServerFailsTheRunInFlightAndReportsItsDeath() throws Exception {
    var entry = TestModels.llamaServer();
    var cfg = new EngineConfig(TestModels.demoModel(), 512, 1, 1, Duration.ofSeconds(60), work.resolve("victim"));
    try (var victim = new LlamaServerEngine(cfg, TestModels.llamaServerBinary(),
        new EngineIdentity(LlamaServerEngine.KIND, entry.version(), entry.binarySha256()))) {
      victim.start();
      var events = new LinkedBlockingQueue<GenerationEvent>();
      victim.generate(text("k1", "The river", 100_000, 1L), events::add);
      GenerationEvent e;
      do {
        e = events.poll(30, TimeUnit.SECONDS);
      } while (e != null && !(e instanceof GenerationEvent.Token) && !e.isTerminal());
      assertInstanceOf(GenerationEvent.Token.class, e);
      new ProcessBuilder("kill", "-9", String.valueOf(victim.processId().orElseThrow())).start().waitFor();
      String reason = victim.terminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(reason.contains("exited"), reason);
      GenerationEvent last = e;
      while (!last.isTerminal()) last = events.poll(10, TimeUnit.SECONDS);
      var failed = assertInstanceOf(GenerationEvent.Failed.class, last);
      assertEquals(ErrorCode.ENGINE_FAILED, failed.error().code());
      assertTrue(failed.error().message().contains("died"), "the failure says the server died: " + failed.error().message());
    }
  }
}
