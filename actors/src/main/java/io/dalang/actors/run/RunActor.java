package io.dalang.actors.run;

import io.dalang.actors.admission.PoolAdmission;
import io.dalang.actors.breaker.CircuitBreaker;
import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.actors.engine.EngineActor;
import io.dalang.actors.placement.PlacementSpec;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.quota.TenantUsage;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.actors.telemetry.ValidRunPolicy;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.SamplerSettings;
import io.dalang.protocols.telemetry.RunRecord;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Owns one run from acceptance to its telemetry record: asks placement for a slot, sends the
 * generation to that slot's engine actor, relays the canonical events into the edge's stream, and
 * records the {@link RunRecord} on success and on every failure path (placement rejected, engine
 * error, engine death, timeout, stall, client gone). Lives on the node whose edge took the request.
 * Whether the record is valid for KPIs is the {@link ValidRunPolicy}'s call, from what this actor saw.
 *
 * <p>When the slot's engine runs on this node, {@code Started} and tokens go from the engine's thread
 * straight into the stream through a {@link RunRelay}; only the terminal event comes through this
 * actor. A remote engine's events arrive as messages and take the same relay from here.
 *
 * <p>A run whose engine went away before it started (its node was lost, or the engine restarted while
 * the run waited in its queue) is submitted to its pool again, at most {@link #MAX_RESUBMITS} times; one
 * that had started ends with {@code engine_failed}.
 *
 * <p>A run that fails with a retriable error ({@link Fallbacks#eligible}) before its engine started it
 * (so before anything, its first token least of all, reached the client) moves to the next of its
 * tenant's fallback targets: another pool's queue, or a remote OpenAI-compatible endpoint. Never after:
 * by then the response's status and headers are out. It keeps its run id, its stream and its one record,
 * which names the target that served it ({@code served_by}).
 *
 * <p>When it leaves a slot it tells the pool how the run ended there ({@link CircuitBreaker.Outcome}),
 * which feeds the slot's circuit breaker.
 *
 * <p>It guarantees the edge one terminal event: {@code End} or a typed {@code Failed}.
 */
public final class RunActor {

  public interface Command {}

  /** The client went away before the run ended: cancel at the engine. */
  public enum ClientGone implements Command { INSTANCE }

  private record AdmissionReply(PoolAdmission.Reply reply) implements Command {}

  /** The usage actor's answer; null when it did not answer in time. */
  private record QuotaDecision(TenantUsage.Decision decision) implements Command {}

  private static final java.time.Duration QUOTA_TIMEOUT = java.time.Duration.ofSeconds(3);
  /** Times a run that never started is submitted again after its engine went away. */
  static final int MAX_RESUBMITS = 3;

  /** The stream's buffer is full: the client reads slower than the engine writes. */
  enum ClientTooSlow implements Command { INSTANCE }

  /** The run's End or Failed, handed over by its {@link RunRelay}. */
  record Terminal(GenerationEvent event) implements Command {}

  private record EngineEvent(GenerationEvent event) implements Command {}

  private record EngineGone() implements Command {}

  /** A remote fallback target's generation started, or (null, error) could not be. */
  private record RemoteStarted(io.dalang.engine.Engine.Generation generation, Throwable error) implements Command {}

  private enum Timeout implements Command { RUN, RESUBMIT, REDISPATCH, STALL_CHECK, CANCEL_GRACE, ENGINE_GONE }

  /**
   * How long a started run whose engine actor stopped waits for its terminal event before it fails. A
   * drained engine frees the run's sequence (and may be stopped) a moment before the engine's thread
   * hands the run its End: that End, not the stop, decides the run.
   */
  private static final java.time.Duration ENGINE_GONE_GRACE = java.time.Duration.ofSeconds(1);

  /** How often a resubmitted run asks its pool again while no slot of it is Ready (its engine restarting). */
  private static final java.time.Duration REDISPATCH_POLL = java.time.Duration.ofMillis(250);

  public static Behavior<Command> create(RunSpec spec, RunOutput out,
      ActorRef<PlacementActor.Command> placement, ActorRef<TelemetryActor.Command> telemetry, RunSettings settings) {
    return create(spec, out, placement, telemetry, settings, Fallbacks.none());
  }

  public static Behavior<Command> create(RunSpec spec, RunOutput out, ActorRef<PlacementActor.Command> placement,
      ActorRef<TelemetryActor.Command> telemetry, RunSettings settings, Fallbacks fallbacks) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new RunActor(ctx, timers, spec, out, telemetry, settings, fallbacks).admitting(placement)));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final RunSpec spec;
  private final RunOutput out;
  private final ActorRef<TelemetryActor.Command> telemetry;
  private final RunSettings settings;
  private SlotStatus slot;
  private ActorRef<EngineActor.Command> engine;
  private RunRelay relay;
  private boolean cancelling;
  /** The client went away or read too slowly before the end: it did not get the whole stream. */
  private boolean clientGone;
  private boolean finished;
  /** Whether the tenant's usage counts the run as in flight: it is then told the run's tokens at the end. */
  private boolean acquired;
  /** Whether the pool's admission knows the run: it is then told when the run is over. */
  private boolean submitted;
  private long poolQueueMs;
  private ActorRef<PlacementActor.Command> placement;
  private int resubmits;
  private final Fallbacks fallbacks;
  /** The tenant's fallback targets after the run's own pool, in order; {@code nextFallback} is the next to try. */
  private final java.util.List<FallbackTarget> chain;
  private int nextFallback;
  /** The pool whose queue has the run now, and the model asked of it. */
  private String poolId;
  private String modelId;
  /** The target trying the run now: {@code pool:<id>} or {@code remote:<name>}. */
  private String servedBy;
  /** The generation at a remote target, once it started. */
  private io.dalang.engine.Engine.Generation remote;
  /** Until when a resubmitted run waits for a Ready slot rather than failing with {@code no_ready_slot}. */
  private long redispatchUntilNanos;

  private RunActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, RunSpec spec,
      RunOutput out, ActorRef<TelemetryActor.Command> telemetry, RunSettings settings, Fallbacks fallbacks) {
    this.ctx = ctx;
    this.fallbacks = fallbacks;
    this.poolId = spec.poolId();
    this.modelId = spec.modelId();
    this.chain = spec.fallbacks() == null ? java.util.List.of()
        : spec.fallbacks().stream().filter(t -> !(t.isPool() && t.pool().equals(spec.poolId()))).toList();
    this.timers = timers;
    this.spec = spec;
    this.out = out;
    this.telemetry = telemetry;
    this.settings = settings;
    this.relay = new RunRelay(out, ctx.getSelf());
    timers.startSingleTimer(Timeout.RUN, settings.timeout());
  }

  /**
   * The tenant's quotas first ({@link TenantUsage}): a refused run ends here with {@code quota_exceeded}.
   * If the usage actor does not answer in time the run goes on (quotas fail open: a slow control plane
   * must not stop serving), and the miss is logged.
   */
  private Behavior<Command> admitting(ActorRef<PlacementActor.Command> placement) {
    var usage = ClusterSharding.get(ctx.getSystem()).entityRefFor(TenantUsage.ENTITY_KEY, spec.tenantId());
    ctx.ask(TenantUsage.Decision.class, usage, QUOTA_TIMEOUT,
        replyTo -> new TenantUsage.Acquire(spec.runId(), spec.quotas(), replyTo),
        (d, err) -> new QuotaDecision(err != null ? null : d));
    return Behaviors.receive(Command.class)
        .onMessage(QuotaDecision.class, m -> {
          if (m.decision() == null) {
            ctx.getLog().warn("run {}: the usage of tenant {} did not answer in {} ms; quotas not checked", spec.runId(), spec.tenantId(),
                QUOTA_TIMEOUT.toMillis());
          } else if (!m.decision().granted()) {
            return finish(new GenerationEvent.Failed(spec.runId(), m.decision().error(), 0, EngineTimings.NONE));
          } else {
            acquired = true;
          }
          return placing(placement);
        })
        .onMessage(ClientGone.class, m -> {
          clientGone = true;
          return finish(cancelled("the client disconnected before the run was admitted"));
        })
        .onMessageEquals(Timeout.RUN, () -> finish(timeout("quota check")))
        .onSignal(PostStop.class, sig -> stoppedEarly())
        .build();
  }

  /**
   * Waiting for the pool's admission to dispatch the run to a slot (or reject it). The submission is
   * repeated every {@code resubmit-interval}: idempotent for a pool actor that has it, and a pool actor
   * that moved to another node and lost its queue learns of the run again.
   */
  private Behavior<Command> placing(ActorRef<PlacementActor.Command> placement) {
    this.placement = placement;
    servedBy = FallbackTarget.poolLabel(poolId);
    out.servedBy(servedBy);
    var pool = ClusterSharding.get(ctx.getSystem()).entityRefFor(PoolAdmission.ENTITY_KEY, poolId);
    var submit = new PoolAdmission.Submit(spec.runId(), spec.tenantId(),
        PlacementSpec.of(modelId, java.util.Set.of(poolId), promptTokensAtLeast(spec.request(), settings.limits()), spec.request().maxTokens()),
        spec.priority(), spec.deadlineEpochMs(), ctx.messageAdapter(PoolAdmission.Reply.class, AdmissionReply::new), ctx.getSelf(),
        System.currentTimeMillis(), spec.quotas() == null ? 0 : spec.quotas().queuedJobs());
    pool.tell(submit);
    submitted = true;
    timers.startTimerWithFixedDelay(Timeout.RESUBMIT, settings.resubmitInterval());
    return Behaviors.receive(Command.class)
        .onMessage(AdmissionReply.class, m -> {
          if (m.reply() instanceof PoolAdmission.Rejected r) {
            if (resubmits > 0 && r.error().code() == ErrorCode.NO_READY_SLOT && System.nanoTime() < redispatchUntilNanos) {
              // Its engine is restarting: the pool has no Ready slot yet. Ask again shortly, within redispatch-wait.
              timers.startSingleTimer(Timeout.REDISPATCH, REDISPATCH_POLL);
              return Behaviors.same();
            }
            if (r.decision() != null) placement.tell(new PlacementActor.RecordDecision(r.decision()));
            return failed(new GenerationEvent.Failed(spec.runId(), r.error(), 0, EngineTimings.NONE));
          }
          var d = (PoolAdmission.Dispatched) m.reply();
          // A late answer of a pool the run already left for a fallback (its own Release frees the place).
          if (!d.slot().poolId().equals(poolId)) return Behaviors.same();
          placement.tell(new PlacementActor.RecordDecision(d.decision()));
          timers.cancel(Timeout.RESUBMIT);
          poolQueueMs = d.queuedMs();
          slot = d.slot();
          engine = slot.engine();
          ctx.watchWith(engine, new EngineGone());
          var generate = new EngineActor.Generate(spec.request(), ctx.messageAdapter(GenerationEvent.class, EngineEvent::new),
              spec.tenantId(), spec.priority(), spec.deadlineEpochMs());
          engine.tell(engine.path().address().hasLocalScope() ? new EngineActor.GenerateLocal(generate, relay) : generate);
          // Checked now and then rather than re-armed per token; waiting in the slot's queue is not the
          // engine being silent (the run timeout bounds that).
          java.time.Duration every = settings.stallTimeout().dividedBy(4);
          timers.startTimerWithFixedDelay(Timeout.STALL_CHECK, every.compareTo(java.time.Duration.ofMillis(100)) < 0 ? java.time.Duration.ofMillis(100) : every);
          return generating();
        })
        .onMessageEquals(Timeout.RESUBMIT, () -> {
          pool.tell(submit);
          return Behaviors.same();
        })
        .onMessageEquals(Timeout.REDISPATCH, () -> {
          pool.tell(submit);
          return Behaviors.same();
        })
        .onMessage(ClientGone.class, m -> {
          clientGone = true;
          return finish(cancelled("the client disconnected before the run was placed"));
        })
        .onMessageEquals(Timeout.RUN, () -> finish(timeout("it waited in the queue of pool " + poolId)))
        .onSignal(PostStop.class, sig -> stoppedEarly())
        .build();
  }

  private Behavior<Command> generating() {
    return Behaviors.receive(Command.class)
        .onMessage(EngineEvent.class, m -> {
          relay.accept(m.event());
          return Behaviors.same();
        })
        .onMessage(Terminal.class, m -> notStarted(m.event()) ? resubmit("its engine restarted")
            : m.event() instanceof GenerationEvent.Failed f ? failed(f) : finish(m.event()))
        .onMessage(RemoteStarted.class, m -> {
          if (m.error() != null) {
            var cause = m.error() instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : m.error();
            var error = cause instanceof io.dalang.protocols.error.DalangException de ? de.toError()
                : DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "fallback " + servedBy + " could not be started");
            return failed(new GenerationEvent.Failed(spec.runId(), error, 0, EngineTimings.NONE));
          }
          remote = m.generation();
          if (cancelling) remote.cancel();
          return Behaviors.same();
        })
        .onMessage(AdmissionReply.class, m -> Behaviors.same()) // a repeated answer to a repeated submission
        .onMessage(ClientTooSlow.class, m -> {
          if (cancelling) return Behaviors.same();
          cancelling = true;
          clientGone = true;
          cancelGeneration();
          out.fail(new IllegalStateException("client too slow"));
          return Behaviors.same();
        })
        .onMessage(ClientGone.class, m -> {
          cancelling = true;
          clientGone = true;
          relay.stop();
          cancelGeneration();
          timers.startSingleTimer(Timeout.CANCEL_GRACE, java.time.Duration.ofSeconds(5));
          return Behaviors.same();
        })
        .onMessage(EngineGone.class, m -> {
          if (!relay.started() && !cancelling && resubmits < MAX_RESUBMITS) return resubmit("its engine stopped");
          timers.startSingleTimer(Timeout.ENGINE_GONE, ENGINE_GONE_GRACE);
          return Behaviors.same();
        })
        .onMessageEquals(Timeout.ENGINE_GONE, () -> failed(new GenerationEvent.Failed(spec.runId(),
            DalangError.of(ErrorCode.ENGINE_FAILED, "the engine of slot " + slot.slotId() + " stopped during the run"), relay.tokens(),
            EngineTimings.NONE, true)))
        .onMessageEquals(Timeout.CANCEL_GRACE, () -> finish(cancelled("the client disconnected")))
        .onMessageEquals(Timeout.STALL_CHECK, () -> {
          if (!relay.started() || System.nanoTime() - relay.lastEventNanos() < settings.stallTimeout().toNanos()) return Behaviors.same();
          cancelGeneration();
          return finish(timeout("the engine was silent for " + settings.stallTimeout().toSeconds() + " s"));
        })
        .onMessageEquals(Timeout.RUN, () -> {
          cancelGeneration();
          return finish(timeout("the run exceeded " + settings.timeout().toSeconds() + " s"));
        })
        .onSignal(PostStop.class, sig -> stoppedEarly())
        .build();
  }

  /**
   * The engine gave up on the run, or died under it, before it started: nothing reached the client yet,
   * so another slot (or the restarted engine) may run it.
   */
  private boolean notStarted(GenerationEvent terminal) {
    return engine != null && terminal instanceof GenerationEvent.Failed f
        && (f.error().code() == ErrorCode.ENGINE_UNAVAILABLE || f.engineLost()) && !relay.started() && !cancelling && resubmits < MAX_RESUBMITS;
  }

  /** Back to the pool's queue: the sequence reserved on the old slot is freed, the run placed anew. */
  private Behavior<Command> resubmit(String why) {
    resubmits++;
    redispatchUntilNanos = System.nanoTime() + settings.redispatchWait().toNanos();
    ctx.getLog().info("run {}: slot {} did not start it ({}); submitting it to pool {} again ({} of {})", spec.runId(), slot.slotId(), why,
        poolId, resubmits, MAX_RESUBMITS);
    timers.cancel(Timeout.STALL_CHECK);
    ctx.unwatch(engine);
    release(CircuitBreaker.Outcome.FAILURE);
    slot = null;
    engine = null;
    return placing(placement);
  }

  /**
   * A lower bound of the prompt's length in tokens, before the engine tokenizes it: its UTF-8 bytes /
   * {@code dalang.limits.bytes-per-token} (the most bytes one token of a served vocabulary spans), at
   * least 1. Placement uses it for the context check, so a request is only rejected up front when it
   * surely does not fit; the engine checks the exact count.
   */
  public static int promptTokensAtLeast(io.dalang.protocols.generation.GenerationRequest r, io.dalang.protocols.openai.RequestLimits limits) {
    long bytes = 0;
    if (r.isChat()) {
      for (var m : r.messages()) bytes += m.content().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    } else {
      bytes = r.prompt().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }
    return limits.tokensAtLeast(bytes);
  }

  /** Stopped without a terminal event (a bug, or the system shutting down): the client still gets one. */
  private Behavior<Command> stoppedEarly() {
    if (!finished) {
      finished = true;
      relay.stop();
      release(CircuitBreaker.Outcome.NEUTRAL);
      var failed = new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.INTERNAL, "the run stopped unexpectedly"),
          relay.tokens(), EngineTimings.NONE);
      RunRecord rec = record(failed);
      settle(rec);
      telemetry.tell(new TelemetryActor.RecordRun(rec));
      out.offer(failed);
      out.complete();
    }
    return Behaviors.same();
  }

  /** Tells the tenant's usage the run is over and what it used. */
  private void settle(RunRecord rec) {
    if (!acquired) return;
    acquired = false;
    ClusterSharding.get(ctx.getSystem()).entityRefFor(TenantUsage.ENTITY_KEY, spec.tenantId())
        .tell(new TenantUsage.Settle(spec.runId(), (long) rec.promptTokens() + rec.completionTokens()));
  }

  /** Frees the run's place in its pool's queue, or the sequence reserved for it; {@code outcome} feeds the slot's breaker. */
  private void release(CircuitBreaker.Outcome outcome) {
    if (submitted) {
      submitted = false;
      ClusterSharding.get(ctx.getSystem()).entityRefFor(PoolAdmission.ENTITY_KEY, poolId)
          .tell(new PoolAdmission.Release(spec.runId(), slot == null ? CircuitBreaker.Outcome.NEUTRAL : outcome));
    }
  }

  /** How {@code terminal} speaks of the slot's health: only the engine's own failures count against it. */
  private CircuitBreaker.Outcome breakerOutcome(GenerationEvent terminal) {
    if (terminal instanceof GenerationEvent.End) return CircuitBreaker.Outcome.SUCCESS;
    if (terminal instanceof GenerationEvent.Failed f && !cancelling && !clientGone) {
      return switch (f.error().code()) {
        case ENGINE_FAILED, ENGINE_UNAVAILABLE, TIMEOUT -> CircuitBreaker.Outcome.FAILURE;
        default -> CircuitBreaker.Outcome.NEUTRAL;
      };
    }
    return CircuitBreaker.Outcome.NEUTRAL;
  }

  private void cancelGeneration() {
    if (engine != null) engine.tell(new EngineActor.Cancel(spec.runId()));
    else if (remote != null) remote.cancel();
  }

  /** A failure: the next fallback target takes the run if it may ({@link Fallbacks#eligible}, nothing sent yet), else the run ends. */
  private Behavior<Command> failed(GenerationEvent.Failed f) {
    if (nextFallback >= chain.size() || relay.started() || cancelling || clientGone || !Fallbacks.eligible(f.error().code())) {
      return finish(f);
    }
    FallbackTarget next = chain.get(nextFallback++);
    String from = servedBy;
    fallbacks.counted(spec.tenantId(), from, next.label(), f.error().code());
    ctx.getLog().info("run {}: {} failed before it started ({}); falling back to {}", spec.runId(), from, f.error().code().code(), next.label());
    timers.cancel(Timeout.STALL_CHECK);
    timers.cancel(Timeout.RESUBMIT);
    if (engine != null) ctx.unwatch(engine);
    release(breakerOutcome(f));
    relay.retire();
    relay = new RunRelay(out, ctx.getSelf());
    slot = null;
    engine = null;
    resubmits = 0;
    if (next.isPool()) {
      poolId = next.pool();
      modelId = next.model();
      return placing(placement);
    }
    servedBy = next.label();
    out.servedBy(servedBy);
    poolId = null;
    ctx.pipeToSelf(fallbacks.startRemote(spec.tenantId(), next, spec.request(), relay), RemoteStarted::new);
    java.time.Duration every = settings.stallTimeout().dividedBy(4);
    timers.startTimerWithFixedDelay(Timeout.STALL_CHECK, every.compareTo(java.time.Duration.ofMillis(100)) < 0 ? java.time.Duration.ofMillis(100) : every);
    return generating();
  }

  private GenerationEvent.Failed cancelled(String why) {
    return new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.CANCELLED, why), relay.tokens(), EngineTimings.NONE);
  }

  private GenerationEvent.Failed timeout(String why) {
    return new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.TIMEOUT, "run timed out: " + why), relay.tokens(), EngineTimings.NONE);
  }

  private Behavior<Command> finish(GenerationEvent terminal) {
    relay.stop();
    release(breakerOutcome(terminal));
    RunRecord rec = record(terminal);
    settle(rec);
    telemetry.tell(new TelemetryActor.RecordRun(rec));
    finished = true;
    if (!cancelling) out.offer(terminal); // a full buffer here means a too-slow client: the stream then just ends
    out.complete();
    return Behaviors.stopped();
  }

  RunRecord record(GenerationEvent terminal) {
    long now = System.nanoTime();
    EngineTimings timings = EngineTimings.NONE;
    int promptTokens = 0;
    int completion = relay.tokens();
    long firstTokenNanos = relay.firstTokenNanos();
    String outcome = "ok";
    String finish = null;
    if (terminal instanceof GenerationEvent.End end) {
      timings = end.timings();
      promptTokens = end.usage().promptTokens();
      completion = end.usage().completionTokens();
      finish = end.finishReason();
    } else if (terminal instanceof GenerationEvent.Failed f) {
      timings = f.timings();
      outcome = f.error().code().code();
    }
    // What Dalang saw of the engine's work when the engine's own timings say nothing (most failures).
    double measured = relay.started() ? Math.max(0, relay.lastEventNanos() - relay.startedNanos()) / 1e9 : 0;
    var times = RunTimes.of((now - spec.receivedAtNanos()) / 1e9, timings, measured);
    var reasons = ValidRunPolicy.reasons(spec.runId(), terminal, new ValidRunPolicy.Observed(clientGone,
        slot != null ? slot.restarts() : -1, relay.started(), relay.engineRestarts(), relay.tokens()));
    double ttftMs = firstTokenNanos > 0 ? (firstTokenNanos - spec.receivedAtNanos()) / 1e6 : 0;
    double genSeconds = timings.predictedMs() > 0 ? timings.predictedMs() / 1000
        : firstTokenNanos > 0 ? (now - firstTokenNanos) / 1e9 : 0;
    double tps = genSeconds > 0 && completion > 1 ? completion / genSeconds : 0;
    int seen = relay.tokens();
    double meanInterTokenMs = seen > 1 ? (relay.lastTokenNanos() - firstTokenNanos) / 1e6 / (seen - 1) : 0;
    var started = relay.startedEvent(); // its determinism signals, as the engine actor stamped them; null: no engine started the run
    return new RunRecord(RunRecord.SCHEMA_VERSION, spec.runId(), spec.tenantId(), spec.modelId(),
        slot != null ? slot.poolId() : null, slot != null ? slot.slotId() : null,
        slot != null ? slot.engineKind() : poolId == null ? io.dalang.engine.RemoteOpenAiEndpoint.KIND : null,
        spec.stream(), spec.receivedAtEpochMs(), poolQueueMs + relay.queueMs(), ttftMs, promptTokens, completion, tps,
        times.internalSeconds(), times.internalFromEngine(), times.totalSeconds(), times.overheadRatio(), outcome, finish,
        ValidRunPolicy.quality(reasons), reasons, meanInterTokenMs, null, servedBy,
        started != null ? started.engineVersion() : null, started != null ? started.engineDigest() : null,
        started != null ? started.modelDigest() : null, SamplerSettings.of(spec.request()),
        started != null ? started.device() : null, started != null ? started.gpuLayers() : 0);
  }
}
