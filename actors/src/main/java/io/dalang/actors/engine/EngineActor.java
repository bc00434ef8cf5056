package io.dalang.actors.engine;

import io.dalang.actors.admission.internal.AdmissionQueue;
import io.dalang.actors.admission.internal.AdmissionItem;
import io.dalang.actors.admission.internal.OfferResult;
import io.dalang.actors.admission.internal.PollResult;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.actors.telemetry.ValidRunPolicy;
import io.dalang.engine.Digests;
import io.dalang.engine.Engine;
import io.dalang.gguf.GgufReader;
import io.dalang.protocols.node.Device;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.EmbeddingInput;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.RunTask;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;

/**
 * Runs one engine for one model slot on this node and dispatches generations to it.
 *
 * <p>Start-up: the slot goes to Loading, the model file is checked against its digest, the engine is
 * ensured (provisioned if needed) and started, and only after a health check passes is the slot marked
 * Ready. An engine that dies, fails to start or fails its health checks throws, and the supervisor
 * ({@link #supervised}) restarts this actor with exponential backoff; in-flight and queued generations
 * then end with a typed error, never silently.
 *
 * <p>{@link Generate} streams canonical events to its {@code replyTo}; at most {@code parallel} run at
 * once, up to {@code max-queued} wait, more are answered {@code capacity_exhausted}. {@link Cancel}
 * stops a running or queued generation.
 *
 * <p>{@link Drain} (the node is leaving) publishes the slot as {@code Draining}, so the pool sends it no
 * more runs, lets the running and queued ones finish, answers any run that still arrives
 * {@code engine_unavailable} (its run submits it to the pool again), and replies once none is left.
 */
public final class EngineActor {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EngineActor.class);

  public interface Command extends CborSerializable {}

  /**
   * @param tenant whose weight decides the run's share of the slot's queue
   * @param priority its class in the queue
   * @param deadlineEpochMs the latest wall-clock time the run may start, 0 for none
   */
  public record Generate(GenerationRequest request, ActorRef<GenerationEvent> replyTo, String tenant, Priority priority,
      long deadlineEpochMs) implements Command {}

  /**
   * {@link Generate} from a run on this node: the engine's thread hands events straight to {@code sink}
   * (one hand-off per token instead of a message per token). Never sent across nodes.
   */
  public record GenerateLocal(Generate generate, Consumer<GenerationEvent> sink) implements Command {}

  public record Cancel(String runId) implements Command {}

  /** Finish what was taken, take nothing more; replies when no run is left. */
  public record Drain(ActorRef<org.apache.pekko.Done> replyTo) implements Command {}

  private record Started(Engine engine, String modelDigest, String quantization, long loadMs) implements Command {}

  private record StartFailed(Throwable cause) implements Command {}

  private record Died(Engine engine, String reason) implements Command {}

  private record Done(String runId) implements Command {}

  private record HealthChecked(boolean ok) implements Command {}

  private enum Tick implements Command { STATUS, HEALTH }

  private record SlotUpdated(StatusReply<ModelSlotEntity.SlotView> reply) implements Command {}

  /** Raised inside the actor to hand an engine failure to the supervisor. */
  static final class EngineFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    EngineFailure(String message, Throwable cause) {
      super(message, cause);
      log.warn("{}; restarting it with backoff", message);
    }
  }

  private record Running(GenerationRequest request, Consumer<GenerationEvent> sink, Engine.Generation handle, long startedNanos) {}

  private record Waiting(GenerationRequest request, Consumer<GenerationEvent> sink, long enqueuedNanos) {}

  /**
   * Told to the node agent when this slot's engine has loaded its model ({@code loaded}) and when it let
   * go of it, so that the agent knows which slots a device's memory reading already counts.
   * {@code instance} orders the engines of one slot (a later start has a larger one): an old engine's
   * late "let go" must not undo a new one's "loaded".
   */
  public record EngineLoaded(String slotId, long instance, boolean loaded) {}

  /** Orders engine starts across restarts and respawns of a slot's engine actor. */
  private static final java.util.concurrent.atomic.AtomicLong INSTANCES = new java.util.concurrent.atomic.AtomicLong();

  /** The behavior wrapped in the restart-with-backoff supervisor the settings describe. */
  public static Behavior<Command> supervised(SlotSpec spec, Device device, EngineFactory factory, EngineSettings settings,
      ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics, AtomicInteger restarts, ActorRef<EngineLoaded> loadedTo) {
    var strategy = SupervisorStrategy.restartWithBackoff(settings.minBackoff(), settings.maxBackoff(), settings.jitter())
        .withMaxRestarts(settings.maxRestarts())
        .withResetBackoffAfter(settings.restartWindow())
        .withLoggingEnabled(false); // EngineActor logs each failure itself, in one line
    // Any failure restarts the engine with backoff, not only the ones this actor raises itself.
    return Behaviors.supervise(create(spec, device, factory, settings, topic, metrics, restarts, loadedTo))
        .onFailure(RuntimeException.class, strategy);
  }

  static Behavior<Command> create(SlotSpec spec, Device device, EngineFactory factory, EngineSettings settings,
      ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics, AtomicInteger restarts, ActorRef<EngineLoaded> loadedTo) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new EngineActor(ctx, timers, spec, device, factory, settings, topic, metrics, restarts, loadedTo).starting()));
  }

  private final ActorContext<Command> ctx;
  private final SlotSpec spec;
  private final Device device;
  private final EngineSettings settings;
  private final ActorRef<Topic.Command<SlotStatus>> topic;
  private final MeterRegistry metrics;
  private final AtomicInteger restarts;
  private final ActorRef<EngineLoaded> loadedTo;
  private final long instance = INSTANCES.incrementAndGet();
  /** The slot's restart count when this engine instance was started, stamped on each run's Started. */
  private final int engineRestarts;
  private final Executor blocking;
  private final ActorRef<StatusReply<ModelSlotEntity.SlotView>> slotReplies;
  private final Map<String, Running> running = new HashMap<>();
  private final AdmissionQueue<Waiting> waiting;
  /** Moving average of how long a run holds a sequence, for the up-front deadline check. */
  private double averageRunNanos;
  private Engine engine;
  /** An engine started on the blocking dispatcher that this actor has not taken over yet. */
  private final java.util.concurrent.atomic.AtomicReference<Engine> unclaimed = new java.util.concurrent.atomic.AtomicReference<>();
  private volatile boolean stopped;
  /** Whether this engine holds its model file in the node's cache ({@link ModelFiles#acquire}); released once, on shutdown. */
  private final java.util.concurrent.atomic.AtomicBoolean modelHeld = new java.util.concurrent.atomic.AtomicBoolean();
  private String state = "Loading";
  /** Who waits for the drain to finish; null while not draining. */
  private List<ActorRef<org.apache.pekko.Done>> drainWaiters;
  /** The model file's type, known once the model was checked. */
  private String quantization = "";
  /** The model file's sha256, known once the model was checked; stamped on each run's Started. */
  private String modelDigest;
  private int healthFailures;

  private EngineActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, SlotSpec spec, Device device, EngineFactory factory,
      EngineSettings settings, ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics, AtomicInteger restarts,
      ActorRef<EngineLoaded> loadedTo) {
    this.ctx = ctx;
    this.loadedTo = loadedTo;
    this.spec = spec;
    this.device = device;
    this.settings = settings;
    this.topic = topic;
    this.metrics = metrics;
    this.restarts = restarts;
    this.engineRestarts = restarts.get();
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
    this.waiting = new AdmissionQueue<>(settings.admission());
    this.slotReplies = ctx.messageAdapter(replyClass(), SlotUpdated::new);
    timers.startTimerWithFixedDelay(Tick.STATUS, settings.statusInterval());
    timers.startTimerWithFixedDelay(Tick.HEALTH, settings.healthInterval());
    int attempt = restarts.get() + 1;
    slot().tell(new ModelSlotEntity.BeginLoading(spec, attempt, slotReplies));
    ctx.getLog().info("slot {}: starting {} engine for model {} (attempt {})", spec.slotId(), spec.engine(), spec.modelId(), attempt);
    Path workDir = settings.dataDir().resolve("engines").resolve(spec.slotId());
    ctx.pipeToSelf(CompletableFuture.supplyAsync(() -> startEngine(factory, workDir), blocking),
        (ok, err) -> err != null ? new StartFailed(err) : ok);
    publish();
  }

  @SuppressWarnings("unchecked")
  private static Class<StatusReply<ModelSlotEntity.SlotView>> replyClass() {
    return (Class<StatusReply<ModelSlotEntity.SlotView>>) (Class<?>) StatusReply.class;
  }

  /** Runs on the blocking dispatcher: model present and intact, engine ensured, model loaded, healthy. */
  private Started startEngine(EngineFactory factory, Path workDir) {
    if (!spec.loadsModelFile()) return startEngine(factory, workDir, "", "");
    Path model;
    try {
      model = settings.models().acquire(spec);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("model " + spec.modelId() + " is not on this node: " + e.getMessage(), e);
    }
    modelHeld.set(true);
    if (stopped && modelHeld.compareAndSet(true, false)) settings.models().release(spec);
    if (!Files.isRegularFile(model)) throw new IllegalStateException("model file " + model + " is missing");
    String digest;
    try {
      digest = Digests.sha256Cached(model);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("model file " + model + " cannot be read: " + e.getMessage(), e);
    }
    if (spec.modelDigest() != null && !spec.modelDigest().isBlank() && !spec.modelDigest().equals(digest)) {
      throw new IllegalStateException("model file " + model.getFileName() + " has sha256 " + digest.substring(0, 12)
          + "…, expected " + spec.modelDigest().substring(0, Math.min(12, spec.modelDigest().length())) + "…");
    }
    String fileType;
    try {
      fileType = GgufReader.read(model).fileTypeName();
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalStateException("model file " + model.getFileName() + " is not a readable GGUF file: " + e.getMessage(), e);
    }
    log.info("slot {}: model {} present ({}, sha256 {}…)", spec.slotId(), model.getFileName(), fileType, digest.substring(0, 12));
    return startEngine(factory, workDir, digest, fileType);
  }

  /** The engine made, started, healthy and warmed up; its model file (if it has one) is {@code digest}, of {@code fileType}. */
  private Started startEngine(EngineFactory factory, Path workDir, String digest, String fileType) {
    Engine e = factory.create(spec, device, workDir);
    log.info("slot {}: engine {} ensured ({})", spec.slotId(), e.kind(), e.identity().version());
    long t0 = settings.time().nanoTime();
    try {
      e.start();
      if (!e.checkHealth()) throw new IllegalStateException("engine started but its health check failed");
      warmUp(e);
    } catch (RuntimeException ex) {
      e.close();
      throw ex;
    }
    // If this actor stopped while the engine was starting, nobody would ever close it: do it here.
    unclaimed.set(e);
    if (stopped && unclaimed.compareAndSet(e, null)) {
      e.close();
      throw new IllegalStateException("the slot stopped while its engine was starting");
    }
    return new Started(e, digest, fileType, (settings.time().nanoTime() - t0) / 1_000_000);
  }

  /**
   * One short real generation before the slot is Ready: it proves the engine generates (not only that
   * it answers a health probe), and users' first request does not pay for cold caches. An embedding or
   * rerank slot embeds or scores one word instead.
   */
  private void warmUp(Engine e) {
    if (settings.warmupTokens() <= 0) return;
    var done = new CompletableFuture<GenerationEvent>();
    String runId = ValidRunPolicy.WARMUP_RUN_PREFIX + spec.slotId();
    var warmUp = switch (RunTask.parse(spec.task())) {
      case GENERATE -> new GenerationRequest(runId, "Hello", null, settings.warmupTokens(), 0.0, 1.0, 1L, java.util.List.of());
      case EMBED -> GenerationRequest.of(runId, EmbeddingInput.embed(java.util.List.of("Hello"), 0));
      case RERANK -> GenerationRequest.of(runId, EmbeddingInput.rerank("Hello", java.util.List.of("Hello")));
    };
    e.generate(warmUp, ev -> {
          if (ev.isTerminal()) done.complete(ev);
        });
    GenerationEvent last;
    try {
      last = done.get(settings.startTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (Exception ex) {
      throw new IllegalStateException("the warm-up generation did not finish within " + settings.startTimeout().toSeconds() + " s", ex);
    }
    if (last instanceof GenerationEvent.Failed f) throw new IllegalStateException("the warm-up generation failed: " + f.error().message());
  }

  private org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef<ModelSlotEntity.Command> slot() {
    return ClusterSharding.get(ctx.getSystem()).entityRefFor(ModelSlotEntity.ENTITY_KEY, spec.slotId());
  }

  // Behaviors

  private Behavior<Command> starting() {
    return common()
        .onMessage(Started.class, this::onStarted)
        .onMessage(StartFailed.class, m -> {
          Throwable cause = m.cause() instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : m.cause();
          String reason = "engine start failed: " + cause.getMessage();
          slot().tell(new ModelSlotEntity.MarkFailed(reason, slotReplies));
          throw new EngineFailure("slot " + spec.slotId() + ": " + reason, cause);
        })
        .onMessage(Generate.class, this::onGenerate)
        .onMessage(GenerateLocal.class, this::onGenerateLocal)
        .onMessage(HealthChecked.class, m -> Behaviors.same())
        .onMessage(Died.class, m -> Behaviors.same()) // an engine of before the restart
        .build();
  }

  private Behavior<Command> onStarted(Started m) {
    if (!unclaimed.compareAndSet(m.engine(), null)) return Behaviors.same(); // already closed by shutdown
    engine = m.engine();
    quantization = m.quantization();
    modelDigest = m.modelDigest();
    var offload = engine.offload();
    ctx.getLog().info("slot {}: model {} loaded and warmed up in {} ms; health check passed, slot Ready ({} parallel sequences{})",
        spec.slotId(), spec.modelId(), m.loadMs(), engine.parallelism(), offload.layersOffloaded() > 0
            ? "; " + offload.layersOffloaded() + "/" + offload.layersTotal() + " layers on " + device.id() + " (" + offload.device() + ", "
                + Math.round(offload.deviceMib()) + " MiB)" : "");
    loadedTo.tell(new EngineLoaded(spec.slotId(), instance, true));
    state = drainWaiters != null ? DRAINING : SlotStatus.READY;
    var id = engine.identity();
    slot().tell(new ModelSlotEntity.MarkReady(new ModelSlotEntity.EngineRecord(id.kind(), id.version(), id.digest(),
        m.modelDigest(), spec.deviceId(), engine.parallelism()), slotReplies));
    Engine started = engine;
    ctx.pipeToSelf(engine.terminated().toCompletableFuture(), (reason, err) -> new Died(started, err != null ? err.getMessage() : reason));
    dispatch();
    publish();
    return ready();
  }

  private Behavior<Command> ready() {
    return common()
        .onMessage(Generate.class, this::onGenerate)
        .onMessage(GenerateLocal.class, this::onGenerateLocal)
        .onMessage(Died.class, m -> {
          if (engine == null || m.engine() != engine) return Behaviors.same(); // an earlier engine, already replaced
          String reason = "engine died: " + m.reason();
          slot().tell(new ModelSlotEntity.MarkFailed(reason, slotReplies));
          throw new EngineFailure("slot " + spec.slotId() + ": " + reason, null);
        })
        .onMessage(HealthChecked.class, m -> {
          healthFailures = m.ok() ? 0 : healthFailures + 1;
          if (healthFailures >= settings.healthFailuresBeforeRestart()) {
            String reason = "health check failed " + healthFailures + " times in a row";
            slot().tell(new ModelSlotEntity.MarkFailed(reason, slotReplies));
            throw new EngineFailure("slot " + spec.slotId() + ": " + reason, null);
          }
          return Behaviors.same();
        })
        .build();
  }

  static final String DRAINING = "Draining";

  private org.apache.pekko.actor.typed.javadsl.BehaviorBuilder<Command> common() {
    return Behaviors.<Command>receive(Command.class)
        .onMessage(Cancel.class, this::onCancel)
        .onMessage(Drain.class, m -> {
          if (drainWaiters == null) {
            drainWaiters = new java.util.ArrayList<>();
            ctx.getLog().info("slot {}: draining ({} running, {} queued)", spec.slotId(), running.size(), waiting.size());
            if (engine != null) state = DRAINING;
            publish();
          }
          drainWaiters.add(m.replyTo());
          replyIfDrained();
          return Behaviors.same();
        })
        .onMessage(Done.class, m -> {
          Running done = running.remove(m.runId());
          if (done != null) {
            long took = settings.time().nanoTime() - done.startedNanos();
            averageRunNanos = averageRunNanos <= 0 ? took : 0.8 * averageRunNanos + 0.2 * took;
          }
          dispatch();
          replyIfDrained();
          return Behaviors.same();
        })
        .onMessageEquals(Tick.STATUS, () -> {
          failExpired(waiting.expire(settings.time().nanoTime()));
          replyIfDrained();
          publish();
          return Behaviors.same();
        })
        .onMessageEquals(Tick.HEALTH, () -> {
          Engine e = engine;
          if (e != null) ctx.pipeToSelf(CompletableFuture.supplyAsync(e::checkHealth, blocking), (ok, err) -> new HealthChecked(err == null && ok));
          return Behaviors.same();
        })
        .onMessage(SlotUpdated.class, m -> {
          if (m.reply().isError()) ctx.getLog().debug("slot {}: lifecycle update refused: {}", spec.slotId(), m.reply().getError().getMessage());
          return Behaviors.same();
        })
        .onSignal(PreRestart.class, s -> {
          int n = restarts.incrementAndGet();
          metrics.counter("dalang_engine_restarts", "slot", spec.slotId(), "engine", spec.engine()).increment();
          ctx.getLog().info("slot {}: engine restart #{} after backoff", spec.slotId(), n);
          shutdown("the engine of slot " + spec.slotId() + " failed and is restarting");
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> {
          shutdown("the engine of slot " + spec.slotId() + " stopped");
          return Behaviors.same();
        });
  }

  private Behavior<Command> onGenerate(Generate g) {
    ActorRef<GenerationEvent> to = g.replyTo();
    return enqueue(g, to::tell);
  }

  private Behavior<Command> onGenerateLocal(GenerateLocal g) {
    return enqueue(g.generate(), g.sink());
  }

  private void replyIfDrained() {
    if (drainWaiters == null || !running.isEmpty() || waiting.size() > 0) return;
    if (!drainWaiters.isEmpty()) ctx.getLog().info("slot {}: drained, no run left", spec.slotId());
    drainWaiters.forEach(w -> w.tell(org.apache.pekko.Done.getInstance()));
    drainWaiters.clear();
  }

  private Behavior<Command> enqueue(Generate g, Consumer<GenerationEvent> sink) {
    if (drainWaiters != null) {
      sink.accept(new GenerationEvent.Failed(g.request().runId(), DalangError.of(ErrorCode.ENGINE_UNAVAILABLE,
          "slot " + spec.slotId() + " is draining; the request was not started"), 0, EngineTimings.NONE));
      return Behaviors.same();
    }
    long now = settings.time().nanoTime();
    long deadline = g.deadlineEpochMs() <= 0 ? AdmissionItem.NO_DEADLINE
        : now + (g.deadlineEpochMs() - settings.time().epochMillis()) * 1_000_000L;
    var item = new AdmissionItem<>(g.request().runId(), g.tenant(), g.priority(), now, deadline, 1, new Waiting(g.request(), sink, now));
    OfferResult<Waiting> r = waiting.offer(item, now, estimatedWaitNanos());
    if (r instanceof OfferResult.Rejected<Waiting> rejected) {
      String detail = rejected.code() == ErrorCode.CAPACITY_EXHAUSTED
          ? "slot " + spec.slotId() + " is busy: " + running.size() + " running and " + waiting.size() + " queued" : rejected.reason();
      fail(item, rejected.code(), detail);
    } else if (r instanceof OfferResult.AdmittedEvicting<Waiting> evicting) {
      fail(evicting.victim(), ErrorCode.CAPACITY_EXHAUSTED, "evicted from the full queue of slot " + spec.slotId() + " by a higher-priority run");
    }
    dispatch();
    return Behaviors.same();
  }

  /** How long a newly queued run would wait: whole rounds of the runs ahead of it, at the average run length. */
  private long estimatedWaitNanos() {
    int p = parallelism();
    if (running.size() < p || averageRunNanos <= 0) return 0;
    return (long) (Math.ceil((waiting.size() + 1) / (double) p) * averageRunNanos);
  }

  private static void fail(AdmissionItem<Waiting> item, ErrorCode code, String message) {
    item.payload().sink().accept(new GenerationEvent.Failed(item.id(), DalangError.of(code, message), 0, EngineTimings.NONE));
  }

  private void failExpired(List<AdmissionItem<Waiting>> expired) {
    for (AdmissionItem<Waiting> j : expired) fail(j, ErrorCode.TIMEOUT, "the run's deadline passed while it waited for slot " + spec.slotId());
  }

  private Behavior<Command> onCancel(Cancel c) {
    Running r = running.get(c.runId());
    if (r != null) {
      r.handle().cancel();
      return Behaviors.same();
    }
    waiting.remove(c.runId()).ifPresent(j -> fail(j, ErrorCode.CANCELLED, "cancelled while queued"));
    return Behaviors.same();
  }

  private int parallelism() {
    return engine != null ? engine.parallelism() : spec.parallel();
  }

  private void dispatch() {
    // A dead engine takes nothing more: runs wait for the restart, which hands them back not started.
    if (engine == null || engine.terminated().toCompletableFuture().isDone()) return;
    while (waiting.size() > 0 && running.size() < engine.parallelism()) {
      PollResult<Waiting> next = waiting.poll(settings.time().nanoTime());
      failExpired(next.expired());
      if (next.next().isEmpty()) break;
      Waiting w = next.next().get().payload();
      long queuedMs = (settings.time().nanoTime() - w.enqueuedNanos()) / 1_000_000;
      String runId = w.request().runId();
      Consumer<GenerationEvent> to = w.sink();
      ActorRef<Command> self = ctx.getSelf();
      Engine current = engine;
      String engineKind = current.kind();
      var identity = current.identity();
      String digest = modelDigest;
      int gpuLayers = current.offload().layersOffloaded();
      // Events go straight from the engine's thread to the run (to its stream, for a run on this node).
      Engine.Generation handle = current.generate(w.request(), event -> {
        // Done first: the run's end frees its sequence at the pool, which may send the next run here at
        // once; that run must find this sequence already free and the runs committed earlier started,
        // not overtake them in this actor's queue.
        if (event.isTerminal()) self.tell(new Done(runId));
        if (event instanceof GenerationEvent.Started) {
          to.accept(new GenerationEvent.Started(runId, engineKind, spec.slotId(), queuedMs, engineRestarts, identity.version(),
              identity.digest(), digest, spec.deviceId(), gpuLayers, spec.catalogRef()));
        } else if (event instanceof GenerationEvent.Failed f && !f.engineLost() && current.terminated().toCompletableFuture().isDone()) {
          // The engine went away under the run (a killed llama-server reports its death before failing its runs).
          to.accept(f.withEngineLost());
        } else {
          to.accept(event);
        }
      });
      running.put(runId, new Running(w.request(), to, handle, settings.time().nanoTime()));
    }
  }

  private void shutdown(String why) {
    stopped = true;
    if (modelHeld.compareAndSet(true, false)) settings.models().release(spec);
    Engine pending = unclaimed.getAndSet(null);
    if (pending != null) CompletableFuture.runAsync(pending::close, blocking);
    var err = DalangError.of(ErrorCode.ENGINE_FAILED, why);
    for (Running r : running.values()) {
      // The typed error first: cancelling may emit its own (cancelled) terminal event, which then arrives too late.
      r.sink().accept(new GenerationEvent.Failed(r.request().runId(), err, -1, EngineTimings.NONE, true));
      r.handle().cancel();
    }
    running.clear();
    var unavailable = DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, why + "; the request was not started");
    failExpired(waiting.expire(settings.time().nanoTime()));
    for (AdmissionItem<Waiting> j : waiting.drain()) j.payload().sink().accept(new GenerationEvent.Failed(j.id(), unavailable, 0, EngineTimings.NONE, true));
    state = "Loading";
    publish();
    Engine e = engine;
    engine = null;
    if (e != null) {
      // Told after the close, so that a device reading taken from then on no longer counts this engine.
      CompletableFuture.runAsync(e::close, blocking).whenComplete((d, closeErr) -> loadedTo.tell(new EngineLoaded(spec.slotId(), instance, false)));
    }
  }

  /**
   * Published load: an engine that reports its own (an upstream server other clients share) shows no more
   * free sequences than it says it has room for, and its own queue on top of this slot's.
   */
  private void publish() {
    Engine e = engine;
    int total = parallelism();
    var reported = e != null ? e.reportedLoad() : io.dalang.engine.EngineLoad.UNKNOWN;
    int busy = Math.max(running.size(), Math.max(0, reported.running()));
    int queued = waiting.size() + Math.max(0, reported.waiting());
    topic.tell(Topic.publish(new SlotStatus(spec.slotId(), spec.poolId(), spec.modelId(), spec.nodeId(), spec.deviceId(),
        state, spec.engine(), e != null ? e.identity().version() : "", device.kind(),
        device.computeCapability() == null ? "" : device.computeCapability(), quantization,
        e != null ? e.extensions() : java.util.Set.of(), spec.contextPerSequence(), total,
        Math.max(0, total - busy), queued, restarts.get(), e != null ? e.processId().orElse(-1) : -1, e != null ? e.baseUrl() : "",
        ctx.getSelf(), settings.time().epochMillis(), e != null ? e.offload().layersOffloaded() : 0, spec.catalogRef())));
    if (e != null) slot().tell(new ModelSlotEntity.ReportLoad(Math.max(0, total - running.size())));
  }

}
