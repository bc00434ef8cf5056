package io.dalang.engine.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.EmbeddingInput;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.RunTask;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class SimulatedEngineTest {

  static SimProfile profile(double ttftMs, double itlMs, int outputTokens, double errorRate, double jitter, long seed) {
    return new SimProfile(ttftMs, itlMs, outputTokens, errorRate, jitter, seed, 64);
  }

  static GenerationRequest chat(String id, String content, int maxTokens, Long seed) {
    return new GenerationRequest(id, null, List.of(new ChatMessage("user", content)), maxTokens, 0.7, 1.0, seed, List.of());
  }

  static GenerationRequest text(String id, String prompt, int maxTokens) {
    return new GenerationRequest(id, prompt, null, maxTokens, 0.7, 1.0, null, List.of());
  }

  static List<GenerationEvent> run(SimulatedEngine engine, GenerationRequest r) throws Exception {
    var events = new CopyOnWriteArrayList<GenerationEvent>();
    var done = new CountDownLatch(1);
    engine.generate(r, e -> {
      events.add(e);
      if (e.isTerminal()) done.countDown();
    });
    assertTrue(done.await(10, TimeUnit.SECONDS), "no terminal event: " + events);
    return events;
  }

  static String textOf(List<GenerationEvent> events) {
    return events.stream().filter(e -> e instanceof GenerationEvent.Token).map(e -> ((GenerationEvent.Token) e).text())
        .collect(Collectors.joining());
  }

  @Test
  void emitsStartedThenOneTokenPerStepThenEndWithUsage() throws Exception {
    var engine = new SimulatedEngine(profile(1, 1, 5, 0, 0, 1));
    var events = run(engine, chat("r1", "hello there world", 100, null));
    assertInstanceOf(GenerationEvent.Started.class, events.get(0));
    var end = assertInstanceOf(GenerationEvent.End.class, events.get(events.size() - 1));
    assertEquals(7, events.size(), "Started, 5 tokens, End: " + events);
    assertEquals("stop", end.finishReason(), "the answer ended before max_tokens");
    assertEquals(5, end.usage().completionTokens());
    assertEquals(4, end.usage().promptTokens(), "three words and the turn");
    assertTrue(end.timings().reportedByEngine());
    assertEquals(0, engine.running());
  }

  @Test
  void sameSeedAndRequestGiveTheSameWordsWaitsAndFailures() {
    var a = new SimulatedEngine(profile(50, 10, 20, 0, 0.5, 42)).plan(chat("a", "tell me", 64, 7L));
    var b = new SimulatedEngine(profile(50, 10, 20, 0, 0.5, 42)).plan(chat("b", "tell me", 64, 7L));
    assertEquals(20, a.words().size());
    assertEquals(a.words(), b.words());
    assertEquals(a.delaysNanos(), b.delaysNanos());
    assertTrue(a.delaysNanos().stream().distinct().count() > 1, "jitter varies the waits");
    for (int i = 0; i < 50; i++) {
      var r = text("f" + i, "prompt " + i, 8);
      var once = new SimulatedEngine(profile(1, 1, 8, 0.5, 0, 42)).plan(r).events();
      var again = new SimulatedEngine(profile(1, 1, 8, 0.5, 0, 42)).plan(r).events();
      assertEquals(once.get(once.size() - 1).getClass(), again.get(again.size() - 1).getClass(), "the same request fails or not alike");
    }

    var otherSeed = new SimulatedEngine(profile(50, 10, 20, 0, 0.5, 43)).plan(chat("c", "tell me", 64, 7L));
    var otherRequestSeed = new SimulatedEngine(profile(50, 10, 20, 0, 0.5, 42)).plan(chat("d", "tell me", 64, 8L));
    var otherPrompt = new SimulatedEngine(profile(50, 10, 20, 0, 0.5, 42)).plan(chat("e", "tell me more", 64, 7L));
    assertNotEquals(a.words(), otherSeed.words());
    assertNotEquals(a.words(), otherRequestSeed.words());
    assertNotEquals(a.words(), otherPrompt.words());
  }

  @Test
  void aRealRunSendsTheWordsItsPlanDraws() throws Exception {
    var engine = new SimulatedEngine(profile(1, 1, 12, 0, 0.3, 9));
    var request = text("p1", "The river", 50);
    assertEquals(String.join("", engine.plan(request).words()), textOf(run(engine, request)));
  }

  @Test
  void jitterDoesNotChangeTheWords() {
    var exact = new SimulatedEngine(profile(5, 5, 20, 0, 0, 3)).plan(text("j", "x", 20));
    var jittered = new SimulatedEngine(profile(5, 5, 20, 0, 1, 3)).plan(text("j", "x", 20));
    assertEquals(exact.words(), jittered.words());
    assertTrue(exact.delaysNanos().stream().allMatch(d -> d == 5_000_000L));
  }

  @Test
  void maxTokensCutsTheAnswerWithFinishReasonLength() throws Exception {
    var engine = new SimulatedEngine(profile(0, 0, 100, 0, 0, 1));
    var events = run(engine, text("m1", "go", 7));
    var end = assertInstanceOf(GenerationEvent.End.class, events.get(events.size() - 1));
    assertEquals("length", end.finishReason());
    assertEquals(7, end.usage().completionTokens());
    assertEquals(7, events.stream().filter(e -> e instanceof GenerationEvent.Token).count());
  }

  @Test
  void aStopStringEndsTheChoiceWithoutSendingIt() {
    var engine = new SimulatedEngine(profile(0, 0, 200, 0, 0, 1));
    var words = engine.plan(text("s", "go", 200)).words();
    String stopWord = words.get(5);
    int firstHit = words.indexOf(stopWord);
    var stopped = engine.plan(new GenerationRequest("s", "go", null, 200, 0.7, 1, null, List.of(stopWord.strip())));
    assertEquals(words.subList(0, firstHit), stopped.words());
    assertEquals("stop", ((GenerationEvent.End) stopped.events().get(stopped.events().size() - 1)).finishReason());
  }

  @Test
  void severalChoicesEachGetTheirTokens() {
    var options = new GenerationOptions(null, null, null, null, false, 0, 3, 0, 0, Map.of());
    var r = new GenerationRequest("n", "go", null, 4, 0.7, 1, null, List.of(), options);
    var p = new SimulatedEngine(profile(0, 0, 0, 0, 0, 1)).plan(r);
    for (int c = 0; c < 3; c++) {
      int choice = c;
      assertEquals(4, p.events().stream().filter(e -> e instanceof GenerationEvent.Token t && t.choice() == choice).count());
    }
    var end = (GenerationEvent.End) p.events().get(p.events().size() - 1);
    assertEquals(List.of("length", "length", "length"), end.finishReasons());
    assertEquals(12, end.usage().completionTokens());
  }

  @Test
  void errorRateOneFailsEveryRunTypedAtItsFirstTokenTime() throws Exception {
    var engine = new SimulatedEngine(profile(1, 1, 5, 1.0, 0, 1));
    for (int i = 0; i < 20; i++) {
      var events = run(engine, text("e" + i, "prompt " + i, 10));
      var failed = assertInstanceOf(GenerationEvent.Failed.class, events.get(events.size() - 1));
      assertEquals(ErrorCode.ENGINE_FAILED, failed.error().code());
      assertTrue(failed.error().message().contains("simulated"), failed.error().message());
      assertEquals(0, failed.tokensEmitted());
      assertEquals(2, events.size(), "Started, then the failure: " + events);
    }
  }

  @Test
  void errorRateIsTheShareOfFailingRequests() {
    var engine = new SimulatedEngine(profile(0, 0, 1, 0.3, 0, 5));
    int failed = 0;
    for (int i = 0; i < 1000; i++) {
      var p = engine.plan(text("r" + i, "prompt number " + i, 1));
      if (p.events().get(p.events().size() - 1) instanceof GenerationEvent.Failed) failed++;
    }
    assertTrue(failed >= 250 && failed <= 350, failed + " of 1000 failed");
  }

  @Test
  void cancellingStopsTheTokensAndNothingFollowsTheTerminalEvent() throws Exception {
    var engine = new SimulatedEngine(profile(1, 2, 0, 0, 0, 1));
    var events = new CopyOnWriteArrayList<GenerationEvent>();
    var firstToken = new CountDownLatch(1);
    var handle = engine.generate(text("c1", "go", 100_000), e -> {
      events.add(e);
      if (e instanceof GenerationEvent.Token) firstToken.countDown();
    });
    assertTrue(firstToken.await(5, TimeUnit.SECONDS));
    handle.cancel();
    int size = events.size();
    var failed = assertInstanceOf(GenerationEvent.Failed.class, events.get(size - 1));
    assertEquals(ErrorCode.CANCELLED, failed.error().code());
    Thread.sleep(50);
    assertEquals(size, events.size(), "no event after the terminal one");
    handle.cancel();
    assertEquals(size, events.size(), "a second cancel sends nothing");
    assertEquals(0, engine.running());
  }

  @Test
  void theFirstTokenComesNoSoonerThanTheTtft() throws Exception {
    var engine = new SimulatedEngine(profile(50, 5, 3, 0, 0, 1));
    var firstToken = new CompletableFuture<Long>();
    long t0 = System.nanoTime();
    var done = new CountDownLatch(1);
    engine.generate(text("t", "go", 10), e -> {
      if (e instanceof GenerationEvent.Token) firstToken.complete(System.nanoTime());
      if (e.isTerminal()) done.countDown();
    });
    assertTrue(done.await(5, TimeUnit.SECONDS));
    long ms = TimeUnit.NANOSECONDS.toMillis(firstToken.get() - t0);
    assertTrue(ms >= 45, "first token after " + ms + " ms");
    assertTrue(ms < 2000, "first token after " + ms + " ms");
  }

  @Test
  void twoThousandConcurrentGenerationsCompleteOnTheOneTimer() throws Exception {
    var engine = new SimulatedEngine(new SimProfile(20, 5, 20, 0, 0.2, 1, 2000));
    int n = 2000;
    var ended = new AtomicInteger();
    var done = new CountDownLatch(n);
    var timerThreads = java.util.concurrent.ConcurrentHashMap.<String>newKeySet();
    for (int i = 0; i < n; i++) {
      engine.generate(text("c" + i, "prompt " + i, 100), e -> {
        if (e instanceof GenerationEvent.Token) timerThreads.add(Thread.currentThread().getName());
        if (e instanceof GenerationEvent.End) ended.incrementAndGet();
        if (e.isTerminal()) done.countDown();
      });
    }
    assertTrue(done.await(30, TimeUnit.SECONDS), done.getCount() + " generations still running");
    assertEquals(n, ended.get());
    assertEquals(java.util.Set.of("dalang-sim-engine-timer"), timerThreads);
  }

  @Test
  void closeFailsTheGenerationsInFlightAsLostAndRefusesNewOnes() throws Exception {
    var engine = new SimulatedEngine(profile(1, 1000, 0, 0, 0, 1));
    var last = new CompletableFuture<GenerationEvent>();
    engine.generate(text("l", "go", 100), e -> {
      if (e.isTerminal()) last.complete(e);
    });
    assertTrue(engine.checkHealth());
    engine.close();
    var failed = assertInstanceOf(GenerationEvent.Failed.class, last.get(5, TimeUnit.SECONDS));
    assertTrue(failed.engineLost());
    assertFalse(engine.checkHealth());
    assertFalse(engine.terminated().toCompletableFuture().isDone(), "an orderly close is not a death");
    var refused = run(engine, text("after", "go", 5));
    assertEquals(ErrorCode.ENGINE_UNAVAILABLE, ((GenerationEvent.Failed) refused.get(0)).error().code());
  }

  @Test
  void reportsItsIdentityParallelismAndExtensions() {
    var engine = new SimulatedEngine(profile(1, 1, 1, 0, 0, 1));
    assertEquals(SimulatedEngine.KIND, engine.kind());
    assertEquals(64, engine.parallelism());
    assertEquals(engine.identity(), new SimulatedEngine(profile(1, 1, 1, 0, 0, 1)).identity());
    assertNotEquals(engine.identity().digest(), new SimulatedEngine(profile(1, 1, 1, 0, 0, 2)).identity().digest());
    assertEquals(java.util.Set.of(GenerationOptions.CHOICES), engine.extensions());
  }

  @Test
  void anEmbeddingEngineAnswersDeterministicUnitVectors() throws Exception {
    var engine = new SimulatedEngine(profile(1, 1, 1, 0, 0, 1), RunTask.EMBED);
    var r = GenerationRequest.of("v", EmbeddingInput.embed(List.of("hello", "world"), 0));
    var a = run(engine, r);
    var b = run(engine, GenerationRequest.of("w", EmbeddingInput.embed(List.of("hello", "world"), 0)));
    var va = assertInstanceOf(GenerationEvent.Embedded.class, a.get(1)).vectors();
    var vb = ((GenerationEvent.Embedded) b.get(1)).vectors();
    assertEquals(2, va.size());
    assertEquals(SimulatedEngine.EMBEDDING_WIDTH, va.get(0).length);
    assertTrue(java.util.Arrays.equals(va.get(0), vb.get(0)));
    double norm = 0;
    for (float x : va.get(0)) norm += x * x;
    assertEquals(1.0, norm, 1e-4);
    assertInstanceOf(GenerationEvent.End.class, a.get(2));
  }

  @Test
  void refusesAProfileWithAProblem() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new SimulatedEngine(new SimProfile(1, 1, 1, 2, 0, 1, 1)));
    assertTrue(e.getMessage().contains("error_rate"));
  }
}
