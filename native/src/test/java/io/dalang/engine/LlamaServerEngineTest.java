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

  /** Another local user who finds the child's port: loopback only, 401 without the key, no /slots, the key not in `ps`. */
  @Test
  void theChildListensOnLoopbackOnlyAndAnswersNothingButHealthWithoutItsKey() throws Exception {
    var entry = TestModels.llamaServer();
    // extra-args that try to undo the lockdown: the lockdown comes last and wins.
    var cfg = new EngineConfig(TestModels.demoModel(), 512, 1, 1, Duration.ofSeconds(60), work.resolve("locked"), false,
        java.util.List.of("--host", "0.0.0.0", "--slots"));
    try (var child = new LlamaServerEngine(cfg, TestModels.llamaServerBinary(),
        new EngineIdentity(LlamaServerEngine.KIND, entry.version(), entry.binarySha256()))) {
      child.start();
      var base = java.net.URI.create(child.baseUrl());
      var http = java.net.http.HttpClient.newHttpClient();
      java.util.function.BiFunction<String, String, Integer> get = (path, key) -> {
        var b = java.net.http.HttpRequest.newBuilder(base.resolve(path));
        if (key != null) b.header("Authorization", "Bearer " + key);
        try {
          return http.send(b.build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      assertEquals(200, get.apply("/health", null));
      assertEquals(401, get.apply("/v1/models", null));
      assertEquals(401, get.apply("/metrics", "not-the-key"));
      assertEquals(401, get.apply("/slots", null));
      assertEquals(200, get.apply("/v1/models", child.apiKey()));
      assertTrue(get.apply("/slots", child.apiKey()) >= 400, "no /slots endpoint, even with the key");
      long pid = child.processId().orElseThrow();
      String cmdline = java.nio.file.Files.readString(java.nio.file.Path.of("/proc", Long.toString(pid), "cmdline"));
      assertTrue(!cmdline.contains(child.apiKey()), "the key is not on the world-readable command line");
      String local = String.format("0100007F:%04X", base.getPort());
      assertTrue(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc", Long.toString(pid), "net", "tcp")).stream()
          .anyMatch(l -> l.contains(" " + local + " ") && l.contains(" 0A ")), "listens on 127.0.0.1:" + base.getPort() + " only");
    }
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
