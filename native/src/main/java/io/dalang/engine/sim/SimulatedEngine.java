package io.dalang.engine.sim;

import io.dalang.engine.Digests;
import io.dalang.engine.Engine;
import io.dalang.engine.EngineIdentity;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.RunTask;
import io.dalang.protocols.generation.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An engine without a model: it answers with words drawn from a small vocabulary, at the times its
 * {@link SimProfile} sets, so that pools, the scheduler and benchmarks can run at sizes and speeds no
 * machine here could host real engines for. Every generation is driven by one timer shared by all
 * simulated engines in the JVM (one daemon thread): no thread per generation, nothing busy-waits, and a
 * step allocates no more than its events and the timer's task.
 *
 * <p>A generation emits {@code Started} at once, its first step after the profile's TTFT, then a step
 * every ITL: one {@code Token} (one word) per choice. It has {@code min(max_tokens, output_tokens)}
 * steps ({@code max_tokens} when {@code output_tokens} is 0; 16 when neither is set) and ends with
 * {@code End}: finish reason {@code length} when {@code max_tokens} cut it, {@code stop} otherwise or when
 * a word contains one of the request's stop strings (that word is not sent). Usage counts the prompt's
 * whitespace-separated words (plus one per chat turn) and the words sent. A share {@code error_rate} of
 * generations fails at its first-token time with {@code engine_failed}. Everything drawn (words, waits
 * with their jitter, failures) comes from one PRNG per generation seeded by the profile's seed, the
 * request's seed and its content ({@link SimScript}): the same profile and request give the same run.
 *
 * <p>An embedding engine ({@link RunTask#EMBED}) answers, after the TTFT, one deterministic unit vector
 * per input ({@link #EMBEDDING_WIDTH} wide unless the request asks for another width); a rerank engine
 * one score in [0, 1) per document.
 *
 * <p>{@link Engine.Generation#cancel() Cancelling} a generation stops its timer and fails it with {@code cancelled};
 * {@link #close()} fails the generations in flight as lost with the engine. {@link #terminated()} never
 * completes: a simulated engine does not die on its own, and an orderly close is not a death.
 */
public final class SimulatedEngine implements Engine {
  private static final Logger log = LoggerFactory.getLogger(SimulatedEngine.class);
  public static final String KIND = "simulated";
  public static final String VERSION = "dalang-simulated 1";
  /** The width of a simulated embedding when the request asks for none. */
  public static final int EMBEDDING_WIDTH = 384;
  /** Steps of a generation when neither the request's {@code max_tokens} nor the profile's {@code output_tokens} sets them. */
  static final int DEFAULT_TOKENS = 16;

  /** The one timer of every simulated generation in this JVM. */
  private static final ScheduledThreadPoolExecutor TIMER = timer();

  private final SimProfile profile;
  private final RunTask task;
  private final EngineIdentity identity;
  private final CompletableFuture<String> terminated = new CompletableFuture<>();
  private final Set<Run> live = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  /**
   * @param profile how it behaves; refused (IllegalArgumentException) when {@link SimProfile#problem()} names one
   * @param task what its pool serves: generation, embeddings or reranking
   */
  public SimulatedEngine(SimProfile profile, RunTask task) {
    String problem = profile.problem();
    if (problem != null) throw new IllegalArgumentException("simulated engine: " + problem);
    this.profile = profile;
    this.task = task;
    // The digest stands for the "binary": runs of engines with the same profile and task must be byte-identical.
    this.identity = new EngineIdentity(KIND, VERSION, Digests.sha256(profile + "/" + task.wire()));
  }

  /** A generation engine. */
  public SimulatedEngine(SimProfile profile) {
    this(profile, RunTask.GENERATE);
  }

  public SimProfile profile() {
    return profile;
  }

  @Override
  public String kind() {
    return KIND;
  }

  @Override
  public EngineIdentity identity() {
    return identity;
  }

  /** Nothing to load. */
  @Override
  public void start() {}

  @Override
  public boolean checkHealth() {
    return !closed;
  }

  @Override
  public int parallelism() {
    return profile.maxSequences();
  }

  /** Several choices ({@code n}) besides plain generation; an embedding or rerank engine serves only its task. */
  @Override
  public Set<String> extensions() {
    return switch (task) {
      case GENERATE -> Set.of(GenerationOptions.CHOICES);
      case EMBED -> Set.of(GenerationOptions.EMBEDDINGS);
      case RERANK -> Set.of(GenerationOptions.RERANK);
    };
  }

  @Override
  public Generation generate(GenerationRequest request, Consumer<GenerationEvent> sink) {
    if (closed) {
      sink.accept(new GenerationEvent.Failed(request.runId(), DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "the simulated engine is closed"), 0,
          EngineTimings.NONE));
      return () -> {};
    }
    if (request.task() != task) {
      sink.accept(new GenerationEvent.Failed(request.runId(), DalangError.of(ErrorCode.INVALID_REQUEST, "this simulated engine serves task '"
          + task.wire() + "', not '" + request.task().wire() + "'"), 0, EngineTimings.NONE));
      return () -> {};
    }
    var run = new Run(request, sink, null);
    live.add(run);
    run.begin();
    return run;
  }

  @Override
  public CompletionStage<String> terminated() {
    return terminated;
  }

  @Override
  public void close() {
    closed = true;
    for (Run r : live) r.lost();
  }

  /** How many generations are in flight. */
  public int running() {
    return live.size();
  }

  /**
   * What {@code request} would do on this engine, without waiting: the same draws in the same order as
   * a real run (it is one, with its waits recorded instead of slept). Choice 0's words only.
   *
   * @param delaysNanos the first-token wait, then each wait between steps
   */
  record Plan(List<GenerationEvent> events, List<Long> delaysNanos) {
    List<String> words() {
      return events.stream().filter(e -> e instanceof GenerationEvent.Token t && t.choice() == 0).map(e -> ((GenerationEvent.Token) e).text()).toList();
    }
  }

  Plan plan(GenerationRequest request) {
    var events = new ArrayList<GenerationEvent>();
    var delays = new ArrayList<Long>();
    var run = new Run(request, events::add, delays);
    run.begin();
    while (!run.done) run.step();
    return new Plan(List.copyOf(events), List.copyOf(delays));
  }

  /** One generation: its draws, its progress and its next timer. Steps and cancels are serialized on it. */
  private final class Run implements Generation, Runnable {
    private final GenerationRequest request;
    private final Consumer<GenerationEvent> sink;
    private final SimScript script;
    /** Set for a {@link #plan}: the waits are recorded here and not scheduled. */
    private final List<Long> dryDelays;
    private final int choices;
    private final int steps;
    private final boolean cutByMaxTokens;
    /** Which choices met a stop string; null when the request has none. */
    private final boolean[] stopped;
    private int stoppedChoices;
    private int step;
    private int tokens;
    private long t0;
    private long firstToken;
    private boolean fails;
    private ScheduledFuture<?> next;
    private volatile boolean done;

    Run(GenerationRequest request, Consumer<GenerationEvent> sink, List<Long> dryDelays) {
      this.request = request;
      this.sink = sink;
      this.dryDelays = dryDelays;
      this.script = new SimScript(profile, request);
      this.choices = request.task() == RunTask.GENERATE ? request.options().choices() : 1;
      int max = request.maxTokens();
      int out = profile.outputTokens();
      this.steps = out > 0 && (max <= 0 || out < max) ? out : max > 0 ? max : DEFAULT_TOKENS;
      this.cutByMaxTokens = max > 0 && steps == max;
      this.stopped = request.stop() == null || request.stop().isEmpty() ? null : new boolean[choices];
    }

    synchronized void begin() {
      t0 = System.nanoTime();
      fails = script.fails();
      long ttft = script.ttftNanos();
      sink.accept(new GenerationEvent.Started(request.runId(), KIND, null, 0));
      after(ttft);
    }

    @Override
    public void run() {
      try {
        step();
      } catch (RuntimeException e) {
        // A throwing sink must not leave the run without an end, nor the timer's task failing silently.
        log.warn("simulated generation {} failed in its sink", request.runId(), e);
        fail(ErrorCode.ENGINE_FAILED, "the simulated generation failed: " + e.getClass().getSimpleName(), false);
      }
    }

    synchronized void step() {
      if (done) return;
      if (step == 0) {
        firstToken = System.nanoTime();
        if (fails) {
          fail(ErrorCode.ENGINE_FAILED, "simulated engine failure (error_rate " + profile.errorRate() + ")", false);
          return;
        }
        if (request.task() != RunTask.GENERATE) {
          pooled();
          return;
        }
      }
      String runId = request.runId();
      for (int c = 0; c < choices; c++) {
        if (stopped != null && stopped[c]) continue;
        String word = script.nextWord();
        if (stopped != null && stops(word)) {
          stopped[c] = true;
          stoppedChoices++;
          continue;
        }
        tokens++;
        sink.accept(c == 0 ? new GenerationEvent.Token(runId, word) : new GenerationEvent.Token(runId, word, c, List.of()));
      }
      step++;
      if (step >= steps || stoppedChoices == choices) end();
      else after(script.itlNanos());
    }

    private boolean stops(String word) {
      for (String s : request.stop()) if (!s.isEmpty() && word.contains(s)) return true;
      return false;
    }

    private void after(long delayNanos) {
      if (dryDelays != null) dryDelays.add(delayNanos);
      else next = TIMER.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }

    /** An embedding or rerank answer: all of it at the first-token time. */
    private void pooled() {
      var in = request.embedding();
      GenerationEvent answer;
      if (request.task() == RunTask.EMBED) {
        int width = in.dimensions() > 0 ? in.dimensions() : EMBEDDING_WIDTH;
        var vectors = new ArrayList<float[]>(in.texts().size());
        for (int i = 0; i < in.texts().size(); i++) vectors.add(unitVector(width));
        answer = new GenerationEvent.Embedded(request.runId(), vectors);
      } else {
        var scores = new ArrayList<Double>(in.texts().size());
        for (int i = 0; i < in.texts().size(); i++) scores.add(script.nextUnit());
        answer = new GenerationEvent.Scored(request.runId(), scores);
      }
      done = true;
      live.remove(this);
      sink.accept(answer);
      sink.accept(new GenerationEvent.End(request.runId(), "stop", new Usage(SimScript.promptTokens(request), 0), timings()));
    }

    private float[] unitVector(int width) {
      var v = new float[width];
      double norm = 0;
      for (int i = 0; i < width; i++) {
        v[i] = (float) (script.nextUnit() * 2 - 1);
        norm += v[i] * v[i];
      }
      float scale = (float) (1 / Math.sqrt(Math.max(norm, 1e-12)));
      for (int i = 0; i < width; i++) v[i] *= scale;
      return v;
    }

    private void end() {
      done = true;
      live.remove(this);
      String length = cutByMaxTokens ? "length" : "stop";
      String first = stopped != null && stopped[0] ? "stop" : length;
      List<String> reasons = null;
      if (choices > 1) {
        var all = new ArrayList<String>(choices);
        for (int c = 0; c < choices; c++) all.add(stopped != null && stopped[c] ? "stop" : length);
        reasons = all;
      }
      sink.accept(new GenerationEvent.End(request.runId(), first, new Usage(SimScript.promptTokens(request), tokens), timings(), reasons));
    }

    private synchronized void fail(ErrorCode code, String message, boolean engineLost) {
      if (done) return;
      done = true;
      live.remove(this);
      ScheduledFuture<?> f = next;
      if (f != null) f.cancel(false);
      sink.accept(new GenerationEvent.Failed(request.runId(), DalangError.of(code, message), tokens, timings(), engineLost));
    }

    private EngineTimings timings() {
      long now = System.nanoTime();
      if (firstToken == 0) return new EngineTimings((now - t0) / 1e6, 0, true);
      return new EngineTimings((firstToken - t0) / 1e6, (now - firstToken) / 1e6, true);
    }

    @Override
    public void cancel() {
      fail(ErrorCode.CANCELLED, "generation cancelled", false);
    }

    @Override
    public void abort(String why) {
      fail(ErrorCode.ENGINE_FAILED, "the simulated generation was aborted after " + tokens + " tokens: " + why, false);
    }

    void lost() {
      fail(ErrorCode.ENGINE_FAILED, "the simulated engine was closed after " + tokens + " tokens", true);
    }
  }

  private static ScheduledThreadPoolExecutor timer() {
    var t = new ScheduledThreadPoolExecutor(1, r -> {
      var thread = new Thread(r, "dalang-sim-engine-timer");
      thread.setDaemon(true);
      return thread;
    });
    // A cancelled generation's timer leaves the queue at once, not when it would have fired.
    t.setRemoveOnCancelPolicy(true);
    return t;
  }
}
