package io.dalang.actors.run;

import static io.dalang.actors.run.RunState.poolHasRun;
import static io.dalang.actors.run.RunState.slotOf;
import static io.dalang.actors.run.RunState.targetOf;

import io.dalang.actors.TimeSource;
import io.dalang.actors.admission.PoolAdmission;
import io.dalang.actors.breaker.CircuitBreaker;
import io.dalang.actors.engine.EngineActor;
import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.placement.PlacementSpec;
import io.dalang.actors.run.RunState.Admitting;
import io.dalang.actors.run.RunState.Cancelling;
import io.dalang.actors.run.RunState.Finished;
import io.dalang.actors.run.RunState.Generating;
import io.dalang.actors.run.RunState.Queued;
import io.dalang.actors.run.RunState.Slot;
import io.dalang.actors.run.RunState.Target;
import io.dalang.actors.quota.TenantUsage;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.actors.telemetry.ValidRunPolicy;
import io.dalang.engine.Engine;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.openai.RequestLimits;
import io.dalang.protocols.telemetry.RunRecord;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.RecipientRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.BehaviorBuilder;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Owns one run from acceptance to its telemetry record: asks placement for a slot, sends the
 * generation to that slot's engine actor, relays the canonical events into the edge's stream, and
 * records the {@link RunRecord} on success and on every failure path (placement rejected, engine
 * error, engine death, timeout, stall, client gone). Lives on the node whose edge took the request.
 * Whether the record is valid for KPIs is the {@link ValidRunPolicy}'s call, from what this actor saw.
 *
 * <p>Lifecycle, one sealed {@link RunState} each: {@link Admitting} (the tenant's quotas) → {@link Queued}
 * (in a pool's admission queue) → {@link Generating} (at a slot's engine, or a remote fallback target)
 * → {@link Finished}; {@link Cancelling} when the client went away while it generated. A run whose
 * engine went away before it started goes back to {@link Queued}, at most {@link #MAX_RESUBMITS} times;
 * one that had started ends with {@code engine_failed}.
 *
 * <p>When the slot's engine runs on this node, {@code Started} and tokens go from the engine's thread
 * straight into the stream through a {@link RunRelay}; only the terminal event comes through this
 * actor. A remote engine's events arrive as messages and take the same relay from here.
 *
 * <p>A run that fails with a retriable error before its engine started it (so before anything reached
 * the client) moves to the next target of its {@link FallbackChain}: another pool's queue, or a remote
 * OpenAI-compatible endpoint. Never after: by then the response's status and headers are out. It keeps
 * its run id, its stream and its one record, which names the target that served it ({@code served_by}).
 *
 * <p>When it leaves a slot it tells the pool how the run ended there ({@link CircuitBreaker.Outcome}),
 * which feeds the slot's circuit breaker. It guarantees the edge one terminal event: {@code End} or a
 * typed {@code Failed}.
 */
public final class RunActor {

  public interface Command {}

  /** The client went away before the run ended: cancel at the engine. */
  public enum ClientGone implements Command { INSTANCE }

  private record AdmissionReply(PoolAdmission.Reply reply) implements Command {}

  /** The usage actor's answer; null when it did not answer in time. */
  private record QuotaDecision(TenantUsage.Decision decision) implements Command {}

  /** The stream's buffer is full: the client reads slower than the engine writes. */
  enum ClientTooSlow implements Command { INSTANCE }

  /** The run's End or Failed, handed over by its {@link RunRelay}. */
  record Terminal(GenerationEvent event) implements Command {}

  private record EngineEvent(GenerationEvent event) implements Command {}

  private record EngineGone() implements Command {}

  /** A remote fallback target's generation started, or (null, error) could not be. */
  private record RemoteStarted(Engine.Generation generation, Throwable error) implements Command {}

  private enum Timeout implements Command { RUN, RESUBMIT, REDISPATCH, STALL_CHECK, CANCEL_GRACE, ENGINE_GONE }

  /** How the run reaches the sharded actors it talks to: its tenant's usage and its pools' admission. */
  record Peers(Function<String, RecipientRef<TenantUsage.Command>> usage, Function<String, RecipientRef<PoolAdmission.Command>> pools) {
    static Peers sharded(ClusterSharding sharding) {
      return new Peers(t -> sharding.entityRefFor(TenantUsage.ENTITY_KEY, t), p -> sharding.entityRefFor(PoolAdmission.ENTITY_KEY, p));
    }
  }

  private static final Duration QUOTA_TIMEOUT = Duration.ofSeconds(3);
  /** Times a run that never started is submitted again after its engine went away. */
  static final int MAX_RESUBMITS = 3;
  /**
   * How long a started run whose engine actor stopped waits for its terminal event before it fails. A
   * drained engine frees the run's sequence (and may be stopped) a moment before the engine's thread
   * hands the run its End: that End, not the stop, decides the run.
   */
  private static final Duration ENGINE_GONE_GRACE = Duration.ofSeconds(1);
  /** How often a resubmitted run asks its pool again while no slot of it is Ready (its engine restarting). */
  private static final Duration REDISPATCH_POLL = Duration.ofMillis(250);
  /** How long a cancelled run waits for its engine's terminal event. */
  private static final Duration CANCEL_GRACE = Duration.ofSeconds(5);

  /** A run on {@code settings}' clock; {@code fallbacks} reach its tenant's remote targets. */
  public static Behavior<Command> create(RunSpec spec, RunOutput out, ActorRef<PlacementActor.Command> placement,
      ActorRef<TelemetryActor.Command> telemetry, RunSettings settings, Fallbacks fallbacks) {
    return Behaviors.setup(ctx -> create(spec, out, placement, telemetry, settings, fallbacks, Peers.sharded(ClusterSharding.get(ctx.getSystem()))));
  }

  static Behavior<Command> create(RunSpec spec, RunOutput out, ActorRef<PlacementActor.Command> placement,
      ActorRef<TelemetryActor.Command> telemetry, RunSettings settings, Fallbacks fallbacks, Peers peers) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new RunActor(ctx, timers, spec, out, placement, telemetry, settings, fallbacks, peers).admitting()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final RunSpec spec;
  private final RunOutput out;
  private final ActorRef<PlacementActor.Command> placement;
  private final ActorRef<TelemetryActor.Command> telemetry;
  private final RunSettings settings;
  private final TimeSource time;
  private final Fallbacks fallbacks;
  private final Peers peers;
  /** The current state: the PostStop signal reads it. */
  private RunState state;
  /** The tenant's usage counts the run as in flight: it is told the run's tokens when it ends. */
  private boolean quotaHeld;

  private RunActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, RunSpec spec, RunOutput out,
      ActorRef<PlacementActor.Command> placement, ActorRef<TelemetryActor.Command> telemetry, RunSettings settings, Fallbacks fallbacks,
      Peers peers) {
    this.ctx = ctx;
    this.timers = timers;
    this.spec = spec;
    this.out = out;
    this.placement = placement;
    this.telemetry = telemetry;
    this.settings = settings;
    this.time = settings.time();
    this.fallbacks = fallbacks;
    this.peers = peers;
    timers.startSingleTimer(Timeout.RUN, settings.timeout());
  }

  // Admitting

  /**
   * The tenant's quotas first ({@link TenantUsage}): a refused run ends here with {@code quota_exceeded}.
   * If the usage actor does not answer in time the run goes on (quotas fail open: a slow control plane
   * must not stop serving), and the miss is logged.
   */
  private Behavior<Command> admitting() {
    ctx.ask(TenantUsage.Decision.class, peers.usage().apply(spec.tenantId()), QUOTA_TIMEOUT,
        replyTo -> new TenantUsage.Acquire(spec.runId(), spec.quotas(), replyTo),
        (d, err) -> new QuotaDecision(err != null ? null : d));
    var admitting = new Admitting(new Target(null, spec.poolId(), spec.modelId(), new RunRelay(out, ctx.getSelf(), time),
        FallbackChain.of(spec.poolId(), spec.modelId(), spec.fallbacks()), 0));
    state = admitting;
    return receive()
        .onMessage(QuotaDecision.class, m -> {
          if (m.decision() == null) {
            ctx.getLog().warn("run {}: the usage of tenant {} did not answer in {} ms; quotas not checked", spec.runId(), spec.tenantId(),
                QUOTA_TIMEOUT.toMillis());
          } else if (!m.decision().granted()) {
            return finish(admitting, new GenerationEvent.Failed(spec.runId(), m.decision().error(), 0, EngineTimings.NONE), false);
          } else {
            quotaHeld = true;
          }
          return queued(new Queued(admitting.target(), 0, 0));
        })
        .onMessage(ClientGone.class, m -> finish(admitting, cancelled(admitting.target(), "the client disconnected before the run was admitted"), true))
        .onMessageEquals(Timeout.RUN, () -> finish(admitting, timeout(admitting.target(), "quota check"), false))
        .build();
  }

  // Queued

  /**
   * Waiting for the pool's admission to dispatch the run to a slot (or reject it). The submission is
   * repeated every {@code resubmit-interval}: idempotent for a pool actor that has it, and a pool actor
   * that moved to another node and lost its queue learns of the run again.
   */
  private Behavior<Command> queued(Queued q) {
    Target target = q.target().servedBy() == null ? withServedBy(q.target(), FallbackTarget.poolLabel(q.target().poolId())) : q.target();
    var entered = new Queued(target, q.resubmits(), q.redispatchUntilNanos());
    state = entered;
    var pool = peers.pools().apply(target.poolId());
    var submit = new PoolAdmission.Submit(spec.runId(), spec.tenantId(),
        new PlacementSpec(target.modelId(), Set.of(target.poolId()), promptTokensAtLeast(spec.request(), settings.limits()),
            spec.request().maxTokens(), spec.request().extensions(), "", Set.of()),
        spec.priority(), spec.deadlineEpochMs(), ctx.messageAdapter(PoolAdmission.Reply.class, AdmissionReply::new), ctx.getSelf(),
        time.epochMillis(), spec.quotas() == null ? 0 : spec.quotas().queuedJobs());
    pool.tell(submit);
    timers.startTimerWithFixedDelay(Timeout.RESUBMIT, settings.resubmitInterval());
    return receive()
        .onMessage(AdmissionReply.class, m -> m.reply() instanceof PoolAdmission.Rejected r ? rejected(entered, r) : dispatched(entered,
            (PoolAdmission.Dispatched) m.reply()))
        .onMessageEquals(Timeout.RESUBMIT, () -> {
          pool.tell(submit);
          return Behaviors.same();
        })
        .onMessageEquals(Timeout.REDISPATCH, () -> {
          pool.tell(submit);
          return Behaviors.same();
        })
        .onMessage(ClientGone.class, m -> finish(entered, cancelled(target, "the client disconnected before the run was placed"), true))
        .onMessageEquals(Timeout.RUN, () -> finish(entered, timeout(target, "it waited in the queue of pool " + target.poolId()), false))
        .build();
  }

  private Behavior<Command> rejected(Queued q, PoolAdmission.Rejected r) {
    if (q.resubmits() > 0 && r.error().code() == ErrorCode.NO_READY_SLOT && time.nanoTime() - q.redispatchUntilNanos() < 0) {
      // Its engine is restarting: the pool has no Ready slot yet. Ask again shortly, within redispatch-wait.
      timers.startSingleTimer(Timeout.REDISPATCH, REDISPATCH_POLL);
      return Behaviors.same();
    }
    if (r.decision() != null) placement.tell(new PlacementActor.RecordDecision(r.decision()));
    return failed(q, new GenerationEvent.Failed(spec.runId(), r.error(), 0, EngineTimings.NONE));
  }

  private Behavior<Command> dispatched(Queued q, PoolAdmission.Dispatched d) {
    // A late answer of a pool the run already left for a fallback (its own Release frees the place).
    if (!d.slot().poolId().equals(q.target().poolId())) return Behaviors.same();
    placement.tell(new PlacementActor.RecordDecision(d.decision()));
    timers.cancel(Timeout.RESUBMIT);
    var target = new Target(q.target().servedBy(), q.target().poolId(), q.target().modelId(), q.target().relay(), q.target().chain(),
        d.queuedMs());
    var slot = new Slot(d.slot(), d.slot().engine());
    ctx.watchWith(slot.engine(), new EngineGone());
    var generate = new EngineActor.Generate(spec.request(), ctx.messageAdapter(GenerationEvent.class, EngineEvent::new),
        spec.tenantId(), spec.priority(), spec.deadlineEpochMs());
    slot.engine().tell(slot.engine().path().address().hasLocalScope() ? new EngineActor.GenerateLocal(generate, target.relay()) : generate);
    startStallCheck();
    return generating(new Generating(target, q.resubmits(), slot, null));
  }

  // Generating

  private Behavior<Command> generating(Generating g) {
    state = g;
    RunRelay relay = g.target().relay();
    return receive()
        .onMessage(EngineEvent.class, m -> {
          relay.accept(m.event());
          return Behaviors.same();
        })
        .onMessage(Terminal.class, m -> notStarted(g, m.event()) ? resubmit(g, "its engine restarted")
            : m.event() instanceof GenerationEvent.Failed f ? failed(g, f) : finish(g, m.event(), false))
        .onMessage(RemoteStarted.class, m -> {
          if (m.error() != null) return failed(g, remoteFailed(g.target(), m.error()));
          return generating(g.withRemote(m.generation()));
        })
        .onMessage(AdmissionReply.class, m -> Behaviors.same()) // a repeated answer to a repeated submission
        .onMessage(ClientTooSlow.class, m -> {
          cancelGeneration(g);
          out.fail(new IllegalStateException("client too slow"));
          return cancelling(new Cancelling(g));
        })
        .onMessage(ClientGone.class, m -> clientGone(new Cancelling(g)))
        .onMessage(EngineGone.class, m -> {
          if (!relay.started() && g.resubmits() < MAX_RESUBMITS) return resubmit(g, "its engine stopped");
          timers.startSingleTimer(Timeout.ENGINE_GONE, ENGINE_GONE_GRACE);
          return Behaviors.same();
        })
        .onMessageEquals(Timeout.ENGINE_GONE, () -> failed(g, engineStopped(g)))
        .onMessageEquals(Timeout.STALL_CHECK, () -> stalled(g) ? stallTimeout(g) : Behaviors.same())
        .onMessageEquals(Timeout.RUN, () -> runTimeout(g))
        .build();
  }

  /**
   * The engine gave up on the run, or died under it, before it started: nothing reached the client yet,
   * so another slot (or the restarted engine) may run it.
   */
  private static boolean notStarted(Generating g, GenerationEvent terminal) {
    return g.slot() != null && terminal instanceof GenerationEvent.Failed f
        && (f.error().code() == ErrorCode.ENGINE_UNAVAILABLE || f.engineLost()) && !g.target().relay().started() && g.resubmits() < MAX_RESUBMITS;
  }

  /** Back to the pool's queue: the sequence reserved on the old slot is freed, the run placed anew. */
  private Behavior<Command> resubmit(Generating g, String why) {
    int resubmits = g.resubmits() + 1;
    ctx.getLog().info("run {}: slot {} did not start it ({}); submitting it to pool {} again ({} of {})", spec.runId(), g.slot().status().slotId(),
        why, g.target().poolId(), resubmits, MAX_RESUBMITS);
    timers.cancel(Timeout.STALL_CHECK);
    ctx.unwatch(g.slot().engine());
    release(g, CircuitBreaker.Outcome.FAILURE);
    return queued(new Queued(g.target(), resubmits, time.nanoTime() + settings.redispatchWait().toNanos()));
  }

  /**
   * A failure: the next fallback target takes the run if its chain says so (retriable, nothing sent yet),
   * else the run ends. Never while cancelling: the client is gone.
   */
  private Behavior<Command> failed(RunState from, GenerationEvent.Failed f) {
    Target target = targetOf(from);
    Slot slot = slotOf(from);
    var next = target.chain().next(f.error().code(), target.relay().started());
    if (next.isEmpty()) return finish(from, f, false);
    FallbackTarget to = next.get();
    fallbacks.counted(spec.tenantId(), target.servedBy(), to.label(), f.error().code());
    ctx.getLog().info("run {}: {} failed before it started ({}); falling back to {}", spec.runId(), target.servedBy(), f.error().code().code(),
        to.label());
    timers.cancel(Timeout.STALL_CHECK);
    timers.cancel(Timeout.RESUBMIT);
    if (slot != null) ctx.unwatch(slot.engine());
    release(from, breakerOutcome(f, false));
    target.relay().retire();
    var relay = new RunRelay(out, ctx.getSelf(), time);
    if (to.isPool()) {
      return queued(new Queued(new Target(null, to.pool(), to.model(), relay, target.chain().advance(), target.poolQueueMs()), 0, 0));
    }
    var remote = withServedBy(new Target(null, null, to.model(), relay, target.chain().advance(), target.poolQueueMs()), to.label());
    ctx.pipeToSelf(fallbacks.startRemote(spec.tenantId(), to, spec.request(), relay), RemoteStarted::new);
    startStallCheck();
    return generating(new Generating(remote, 0, null, null));
  }

  private GenerationEvent.Failed remoteFailed(Target target, Throwable error) {
    var cause = error instanceof CompletionException c && c.getCause() != null ? c.getCause() : error;
    var e = cause instanceof DalangException de ? de.toError()
        : DalangError.of(ErrorCode.ENGINE_UNAVAILABLE, "fallback " + target.servedBy() + " could not be started");
    return new GenerationEvent.Failed(spec.runId(), e, 0, EngineTimings.NONE);
  }

  private GenerationEvent.Failed engineStopped(Generating g) {
    return new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.ENGINE_FAILED,
        "the engine of slot " + g.slot().status().slotId() + " stopped during the run"), g.target().relay().tokens(), EngineTimings.NONE, true);
  }

  private boolean stalled(Generating g) {
    RunRelay relay = g.target().relay();
    return relay.started() && time.nanoTime() - relay.lastEventNanos() >= settings.stallTimeout().toNanos();
  }

  private Behavior<Command> stallTimeout(Generating g) {
    cancelGeneration(g);
    return finish(state, timeout(g.target(), "the engine was silent for " + settings.stallTimeout().toSeconds() + " s"), false);
  }

  private Behavior<Command> runTimeout(Generating g) {
    cancelGeneration(g);
    return finish(state, timeout(g.target(), "the run exceeded " + settings.timeout().toSeconds() + " s"), false);
  }

  /**
   * Checked now and then rather than re-armed per token; waiting in the slot's queue is not the engine
   * being silent (the run timeout bounds that).
   */
  private void startStallCheck() {
    Duration every = settings.stallTimeout().dividedBy(4);
    timers.startTimerWithFixedDelay(Timeout.STALL_CHECK, every.compareTo(Duration.ofMillis(100)) < 0 ? Duration.ofMillis(100) : every);
  }

  // Cancelling

  /** The client disconnected: stop relaying, cancel at the engine, and give it a grace to end the run. */
  private Behavior<Command> clientGone(Cancelling c) {
    c.was().target().relay().stop();
    cancelGeneration(c.was());
    timers.startSingleTimer(Timeout.CANCEL_GRACE, CANCEL_GRACE);
    return cancelling(c);
  }

  /** Waiting for the cancelled generation's terminal event; whatever it is, the run ends with it and no fallback. */
  private Behavior<Command> cancelling(Cancelling c) {
    state = c;
    Generating g = c.was();
    return receive()
        .onMessage(EngineEvent.class, m -> {
          g.target().relay().accept(m.event());
          return Behaviors.same();
        })
        .onMessage(Terminal.class, m -> finish(c, m.event(), true))
        .onMessage(RemoteStarted.class, m -> {
          if (m.error() != null) return finish(c, remoteFailed(g.target(), m.error()), true);
          m.generation().cancel();
          return cancelling(new Cancelling(g.withRemote(m.generation())));
        })
        .onMessage(AdmissionReply.class, m -> Behaviors.same())
        .onMessage(ClientTooSlow.class, m -> Behaviors.same())
        .onMessage(ClientGone.class, m -> clientGone(c))
        .onMessage(EngineGone.class, m -> {
          timers.startSingleTimer(Timeout.ENGINE_GONE, ENGINE_GONE_GRACE);
          return Behaviors.same();
        })
        .onMessageEquals(Timeout.ENGINE_GONE, () -> finish(c, engineStopped(g), true))
        .onMessageEquals(Timeout.CANCEL_GRACE, () -> finish(c, cancelled(g.target(), "the client disconnected"), true))
        .onMessageEquals(Timeout.STALL_CHECK, () -> stalled(g) ? stallTimeout(g) : Behaviors.same())
        .onMessageEquals(Timeout.RUN, () -> runTimeout(g))
        .build();
  }

  // Ending

  /**
   * Ends the run in {@code from}: frees its place in its pool, settles its usage, sends its record and
   * writes the terminal event (unless it was cancelling: the stream is gone).
   *
   * @param clientGone the client went away or read too slowly before the end: it did not get the whole
   *     stream (always so when cancelling)
   */
  private Behavior<Command> finish(RunState from, GenerationEvent terminal, boolean clientGone) {
    boolean cancelling = from instanceof Cancelling;
    end(from, terminal, breakerOutcome(terminal, clientGone || cancelling), clientGone || cancelling);
    if (!cancelling) out.offer(terminal); // a full buffer here means a too-slow client: the stream then just ends
    out.complete();
    return Behaviors.stopped();
  }

  private void end(RunState from, GenerationEvent terminal, CircuitBreaker.Outcome outcome, boolean clientGone) {
    state = new Finished();
    targetOf(from).relay().stop();
    release(from, outcome);
    RunRecord rec = RunRecordBuilder.of(spec, targetOf(from), slotOf(from), terminal, clientGone, time.nanoTime());
    settle(rec);
    telemetry.tell(new TelemetryActor.RecordRun(rec));
  }

  /** Stopped without a terminal event (a bug, or the system shutting down): the client still gets one. */
  private Behavior<Command> stoppedEarly() {
    RunState from = state;
    if (from == null || from instanceof Finished) return Behaviors.same();
    var failed = new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.INTERNAL, "the run stopped unexpectedly"),
        targetOf(from).relay().tokens(), EngineTimings.NONE);
    end(from, failed, CircuitBreaker.Outcome.NEUTRAL, from instanceof Cancelling);
    out.offer(failed);
    out.complete();
    return Behaviors.same();
  }

  /** Tells the tenant's usage the run is over and what it used. */
  private void settle(RunRecord rec) {
    if (!quotaHeld) return;
    quotaHeld = false;
    peers.usage().apply(spec.tenantId()).tell(new TenantUsage.Settle(spec.runId(), (long) rec.promptTokens() + rec.completionTokens()));
  }

  /** Frees the run's place in its pool's queue, or the sequence reserved for it; {@code outcome} feeds the slot's breaker. */
  private void release(RunState from, CircuitBreaker.Outcome outcome) {
    if (!poolHasRun(from)) return;
    peers.pools().apply(targetOf(from).poolId())
        .tell(new PoolAdmission.Release(spec.runId(), slotOf(from) == null ? CircuitBreaker.Outcome.NEUTRAL : outcome));
  }

  /** How {@code terminal} speaks of the slot's health: only the engine's own failures count against it. */
  private static CircuitBreaker.Outcome breakerOutcome(GenerationEvent terminal, boolean clientGone) {
    if (terminal instanceof GenerationEvent.End) return CircuitBreaker.Outcome.SUCCESS;
    if (terminal instanceof GenerationEvent.Failed f && !clientGone) {
      return switch (f.error().code()) {
        case ENGINE_FAILED, ENGINE_UNAVAILABLE, TIMEOUT -> CircuitBreaker.Outcome.FAILURE;
        default -> CircuitBreaker.Outcome.NEUTRAL;
      };
    }
    return CircuitBreaker.Outcome.NEUTRAL;
  }

  private void cancelGeneration(Generating g) {
    if (g.slot() != null) g.slot().engine().tell(new EngineActor.Cancel(spec.runId()));
    else if (g.remote() != null) g.remote().cancel();
  }

  private Target withServedBy(Target t, String servedBy) {
    out.servedBy(servedBy, t.modelId());
    return new Target(servedBy, t.poolId(), t.modelId(), t.relay(), t.chain(), t.poolQueueMs());
  }

  private GenerationEvent.Failed cancelled(Target target, String why) {
    return new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.CANCELLED, why), target.relay().tokens(), EngineTimings.NONE);
  }

  private GenerationEvent.Failed timeout(Target target, String why) {
    return new GenerationEvent.Failed(spec.runId(), DalangError.of(ErrorCode.TIMEOUT, "run timed out: " + why), target.relay().tokens(),
        EngineTimings.NONE);
  }

  /** Every state's receive ends the same way when the actor stops under it. */
  private BehaviorBuilder<Command> receive() {
    return Behaviors.receive(Command.class).onSignal(PostStop.class, sig -> stoppedEarly());
  }

  /**
   * A lower bound of the prompt's length in tokens, before the engine tokenizes it: its UTF-8 bytes /
   * {@code dalang.limits.bytes-per-token} (the most bytes one token of a served vocabulary spans), at
   * least 1. Placement uses it for the context check, so a request is only rejected up front when it
   * surely does not fit; the engine checks the exact count. An embedding run's inputs are sequences of
   * their own: its longest one counts (with the query, for a rerank run).
   */
  public static int promptTokensAtLeast(GenerationRequest r, RequestLimits limits) {
    long bytes = 0;
    if (r.embedding() != null) {
      long query = r.embedding().query() == null ? 0 : r.embedding().query().getBytes(StandardCharsets.UTF_8).length;
      for (String t : r.embedding().texts()) bytes = Math.max(bytes, query + t.getBytes(StandardCharsets.UTF_8).length);
    } else if (r.isChat()) {
      for (var m : r.messages()) bytes += m.content().getBytes(StandardCharsets.UTF_8).length;
    } else {
      bytes = r.prompt().getBytes(StandardCharsets.UTF_8).length;
    }
    return limits.tokensAtLeast(bytes);
  }
}
