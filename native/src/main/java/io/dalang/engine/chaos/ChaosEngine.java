package io.dalang.engine.chaos;

import io.dalang.engine.Engine;
import io.dalang.engine.EngineException;
import io.dalang.engine.EngineIdentity;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * An engine with fault-injection hooks: a generation the {@link Chaos} switchboard arms a fault for
 * goes through an {@link Injected} relay that delays its tokens, fails it, drops its connection or
 * kills the engine under it; every other call goes straight to the engine.
 *
 * <p>A kill is real where it can be: a llama-server process gets SIGKILL and dies as it would on its
 * own. The in-process engine lives in this JVM, so its kill fails the instance instead: it reports
 * itself {@link #terminated() terminated} and unhealthy and takes no more generations; the slot's
 * supervisor then restarts it like a crashed one.
 */
final class ChaosEngine implements Engine {
  /** Engine actors name their warm-up generations so ({@code ValidRunPolicy.WARMUP_RUN_PREFIX}); faults spare them. */
  static final String WARMUP_PREFIX = "warmup-";

  private final Engine engine;
  private final Chaos chaos;
  private final String slotId;
  private final String poolId;
  /** Completes when an in-process engine is killed. */
  private final CompletableFuture<String> killed = new CompletableFuture<>();
  /** The engine's death or its kill, whichever comes first. */
  private final CompletableFuture<String> terminated;

  ChaosEngine(Engine engine, Chaos chaos, String slotId, String poolId) {
    this.engine = engine;
    this.chaos = chaos;
    this.slotId = slotId;
    this.poolId = poolId;
    this.terminated = engine.terminated().toCompletableFuture().applyToEither(killed, Function.identity());
  }

  @Override
  public String kind() {
    return engine.kind();
  }

  @Override
  public EngineIdentity identity() {
    return engine.identity();
  }

  @Override
  public void start() throws EngineException {
    for (Fault f : chaos.draw(Fault.At.START, slotId, poolId)) {
      chaos.injected(f, slotId, null, "the engine's start fails");
      throw new EngineException("chaos: injected start failure of the " + engine.kind() + " engine of slot " + slotId);
    }
    engine.start();
  }

  @Override
  public boolean checkHealth() {
    return !killed.isDone() && engine.checkHealth();
  }

  @Override
  public int parallelism() {
    return engine.parallelism();
  }

  @Override
  public Set<String> extensions() {
    return engine.extensions();
  }

  @Override
  public io.dalang.engine.Offload offload() {
    return engine.offload();
  }

  @Override
  public io.dalang.engine.EngineLoad reportedLoad() {
    return engine.reportedLoad();
  }

  @Override
  public OptionalLong processId() {
    return engine.processId();
  }

  @Override
  public String baseUrl() {
    return engine.baseUrl();
  }

  /**
   * A process engine's own future: its death must be visible ({@code isDone}) the moment the engine
   * completes it, before the callbacks it runs (a lost connection waits on it to say "died"); a
   * dependent future would lag behind those. An in-process engine's also completes when it is killed.
   */
  @Override
  public CompletionStage<String> terminated() {
    return engine.processId().isPresent() ? engine.terminated() : terminated;
  }

  @Override
  public void close() {
    engine.close();
  }

  @Override
  public Generation generate(GenerationRequest request, Consumer<GenerationEvent> sink) {
    if (killed.isDone()) {
      sink.accept(new GenerationEvent.Failed(request.runId(), DalangError.of(ErrorCode.ENGINE_UNAVAILABLE,
          "the " + engine.kind() + " engine of slot " + slotId + " is not running: " + killed.join()), 0, EngineTimings.NONE));
      return () -> {};
    }
    List<Fault> faults = request.runId().startsWith(WARMUP_PREFIX) ? List.of() : chaos.draw(Fault.At.GENERATE, slotId, poolId);
    if (faults.isEmpty()) return engine.generate(request, sink);
    return new Injected(request, sink, faults).begin();
  }

  /** Kills the engine: SIGKILL for a process, a failed instance for an in-process engine. */
  private void kill(Fault f, String runId, int tokens) {
    OptionalLong pid = engine.processId();
    String what = "after " + tokens + " tokens";
    if (pid.isPresent()) {
      ProcessHandle.of(pid.getAsLong()).ifPresent(ProcessHandle::destroyForcibly); // SIGKILL on Linux and macOS
      chaos.injected(f, slotId, runId, "SIGKILL to " + engine.kind() + " pid " + pid.getAsLong() + " " + what);
    } else {
      killed.complete("killed by chaos " + what + " of run " + runId);
      chaos.injected(f, slotId, runId, "the " + engine.kind() + " engine instance fails " + what);
    }
  }

  /**
   * One generation with armed faults. Its sink runs on the engine's thread, one event at a time, so
   * delays there slow the engine down as a slow engine would. It hands on exactly one terminal event.
   */
  private final class Injected {
    private final GenerationRequest request;
    private final Consumer<GenerationEvent> sink;
    private Fault delay;
    private Fault error;
    private Fault drop;
    private Fault kill;
    private final AtomicBoolean ended = new AtomicBoolean();
    /** The engine's own handle, once {@link Engine#generate} returned; actions asked for earlier wait for it. */
    private Generation handle;
    private Consumer<Generation> pending;
    private int tokens;
    private boolean delayCounted;
    private volatile boolean engineGone;

    Injected(GenerationRequest request, Consumer<GenerationEvent> sink, List<Fault> faults) {
      this.request = request;
      this.sink = sink;
      for (Fault f : faults) {
        switch (f.kind()) {
          case DELAY -> delay = delay == null ? f : delay;
          case ERROR -> error = error == null ? f : error;
          case DROP -> drop = drop == null ? f : drop;
          case KILL -> kill = kill == null ? f : kill;
        }
      }
    }

    Generation begin() {
      if (kill != null && kill.afterTokens() == 0) kill(kill, request.runId(), 0);
      if (error != null && error.afterTokens() == 0) {
        fail(error.code(), "chaos: injected " + error.code().code() + " before the run started");
        chaos.injected(error, slotId, request.runId(), error.code().code() + " before the first token");
        return () -> {};
      }
      if (killed.isDone()) return generate(request, sink); // the in-process engine was just killed: it takes nothing
      Generation h = engine.generate(request, this::onEvent);
      Consumer<Generation> waiting;
      synchronized (this) {
        handle = h;
        waiting = pending;
      }
      if (waiting != null) waiting.accept(h);
      return new Generation() {
        @Override
        public void cancel() {
          h.cancel();
        }

        @Override
        public void abort(String why) {
          h.abort(why);
        }
      };
    }

    private void onEvent(GenerationEvent event) {
      if (event.isTerminal()) {
        if (!ended.compareAndSet(false, true)) return;
        // An in-process generation may reach its end before it sees the abort: its engine died first.
        sink.accept(engineGone && killed.isDone() && event instanceof GenerationEvent.End ? new GenerationEvent.Failed(request.runId(),
            DalangError.of(ErrorCode.ENGINE_FAILED, "the engine was killed after " + tokens + " tokens"), tokens, EngineTimings.NONE) : event);
        return;
      }
      if (ended.get() || engineGone) return;
      if (!(event instanceof GenerationEvent.Token)) {
        sink.accept(event);
        return;
      }
      tokens++;
      if (delay != null) hold(tokens == 1 ? delay.firstTokenDelayMs() : delay.tokenDelayMs());
      sink.accept(event);
      if (drop != null && tokens == drop.afterTokens()) {
        chaos.injected(drop, slotId, request.runId(), "the generation is dropped after " + tokens + " tokens");
        withHandle(h -> h.abort("dropped by chaos"));
      }
      if (error != null && tokens == error.afterTokens()) {
        chaos.injected(error, slotId, request.runId(), error.code().code() + " after " + tokens + " tokens");
        fail(error.code(), "chaos: injected " + error.code().code() + " after " + tokens + " tokens");
        withHandle(Generation::cancel);
      }
      if (kill != null && tokens == kill.afterTokens()) {
        kill(kill, request.runId(), tokens);
        // A dead engine streams nothing more. A killed process's connection ends the run; the in-process
        // generation is aborted, as it would die with its engine.
        engineGone = true;
        if (killed.isDone()) withHandle(h -> h.abort("its engine was killed"));
      }
    }

    private void hold(long ms) {
      if (ms <= 0) return;
      if (!delayCounted) {
        delayCounted = true;
        chaos.injected(delay, slotId, request.runId(), "tokens held back (" + delay.firstTokenDelayMs() + " ms first, "
            + delay.tokenDelayMs() + " ms each after)");
      }
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void fail(ErrorCode code, String message) {
      if (ended.compareAndSet(false, true)) {
        sink.accept(new GenerationEvent.Failed(request.runId(), DalangError.of(code, message), tokens, EngineTimings.NONE));
      }
    }

    private void withHandle(Consumer<Generation> action) {
      Generation h;
      synchronized (this) {
        h = handle;
        if (h == null) pending = pending == null ? action : pending.andThen(action);
      }
      if (h != null) action.accept(h);
    }
  }
}
