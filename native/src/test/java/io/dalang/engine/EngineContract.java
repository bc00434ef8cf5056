package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every engine must do, run against each real engine: the canonical event sequence for chat and
 * text, streaming and whole alike (they are the same stream), repeatable greedy output, cancellation.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class EngineContract {
  protected Engine engine;
  @TempDir static Path work;

  protected abstract Engine newEngine(EngineConfig config);

  @BeforeAll
  void startEngine() {
    engine = newEngine(new EngineConfig(TestModels.demoModel(), 512, 2, 2, Duration.ofSeconds(60), work));
    engine.start();
  }

  @AfterAll
  void stopEngine() {
    if (engine != null) engine.close();
  }

  static GenerationRequest text(String id, String prompt, int max, Long seed) {
    return new GenerationRequest(id, prompt, null, max, 0.0, 1.0, seed, List.of());
  }

  static GenerationRequest chat(String id, String content, int max) {
    return new GenerationRequest(id, null, List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", content)),
        max, 0.0, 1.0, 1L, List.of());
  }

  protected List<GenerationEvent> run(GenerationRequest r) throws InterruptedException {
    var events = new CopyOnWriteArrayList<GenerationEvent>();
    var done = new CountDownLatch(1);
    engine.generate(r, e -> {
      events.add(e);
      if (e.isTerminal()) done.countDown();
    });
    assertTrue(done.await(60, TimeUnit.SECONDS), "no terminal event within 60 s: " + events);
    return events;
  }

  static String textOf(List<GenerationEvent> events) {
    return events.stream().filter(e -> e instanceof GenerationEvent.Token).map(e -> ((GenerationEvent.Token) e).text())
        .collect(Collectors.joining());
  }

  static void assertCanonical(List<GenerationEvent> events, int maxTokens) {
    assertInstanceOf(GenerationEvent.Started.class, events.get(0), "first event: " + events);
    var end = assertInstanceOf(GenerationEvent.End.class, events.get(events.size() - 1), "last event: " + events);
    long tokens = events.stream().filter(e -> e instanceof GenerationEvent.Token).count();
    assertEquals(events.size() - 2, tokens, "only tokens between Started and End");
    assertTrue(tokens >= 1 && tokens <= maxTokens);
    assertEquals(tokens, end.usage().completionTokens(), "usage counts the streamed tokens");
    assertTrue(end.usage().promptTokens() > 0);
    assertEquals(tokens == maxTokens ? "length" : "stop", end.finishReason());
    assertTrue(end.timings().internalModelSeconds() > 0);
  }

  @Test
  void textGenerationEmitsStartedTokensThenEnd() throws Exception {
    var events = run(text("t1", "The tree is", 12, 1L));
    assertCanonical(events, 12);
    assertFalse(textOf(events).isBlank());
  }

  @Test
  void chatGenerationAppliesTheChatTemplateAndEmitsTheSameSequence() throws Exception {
    var events = run(chat("c1", "hello there", 8));
    assertCanonical(events, 8);
  }

  @Test
  void greedyGenerationWithASeedIsRepeatable() throws Exception {
    String a = textOf(run(text("g1", "Once upon a time", 16, 42L)));
    String b = textOf(run(text("g2", "Once upon a time", 16, 42L)));
    assertEquals(a, b);
  }

  @Test
  void cancellingStopsAGenerationWithATypedError() throws Exception {
    var events = new LinkedBlockingQueue<GenerationEvent>();
    var handle = engine.generate(text("x1", "The river", 1500, 3L), events::add);
    GenerationEvent first;
    do {
      first = events.poll(30, TimeUnit.SECONDS);
    } while (first != null && !(first instanceof GenerationEvent.Token) && !first.isTerminal());
    assertInstanceOf(GenerationEvent.Token.class, first);
    handle.cancel();
    GenerationEvent last = first;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!last.isTerminal() && System.nanoTime() < deadline) {
      GenerationEvent e = events.poll(1, TimeUnit.SECONDS);
      if (e != null) last = e;
    }
    var failed = assertInstanceOf(GenerationEvent.Failed.class, last);
    assertEquals(ErrorCode.CANCELLED, failed.error().code());
    assertTrue(failed.tokensEmitted() < 1500);
  }

  @Test
  void reportsItsIdentityAndHealth() {
    assertTrue(engine.checkHealth());
    assertFalse(engine.identity().version().isBlank());
    assertFalse(engine.identity().digest().isBlank());
    assertEquals(2, engine.parallelism());
  }
}
