package io.dalang.actors.admission;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.TimeSource;
import io.dalang.actors.breaker.BreakerSettings;
import io.dalang.actors.breaker.CircuitBreaker;
import io.dalang.actors.breaker.internal.SlotBreakers;
import io.dalang.actors.placement.internal.FleetTable;
import io.dalang.actors.placement.PlacementSpec;
import io.dalang.actors.placement.Placement;
import io.dalang.actors.placement.PlacementDecision;
import io.dalang.actors.placement.PlacementSettings;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.dalang.actors.admission.internal.AdmissionItem;
import io.dalang.actors.admission.internal.AdmissionQueue;
import io.dalang.actors.admission.internal.OfferResult;
import io.dalang.actors.admission.internal.PollResult;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One pool's admission: its bounded, tenant-fair, priority- and deadline-aware queue, and the dispatcher
 * that hands queued runs to the pool's slots as they have free sequences. Sharded by pool id, so the
 * whole cluster has one queue per pool; not persisted (a queued run is held by its run actor, which
 * submits again if this actor lost it, see {@link Submit}).
 *
 * <p>A {@link Submit} is first checked against the pool's slots ({@link Placement}, feasibility first):
 * a run no slot can serve is rejected at once with the typed reason. Otherwise it is offered to the
 * {@link AdmissionQueue} (capacity and policy per pool: {@code reject} answers {@code capacity_exhausted},
 * {@code drop-lru} evicts the oldest run of the lowest lower priority class; a run that cannot start
 * before its deadline is rejected with {@code timeout} up front). Runs leave the queue in fair-share
 * order only when a slot that can serve them has a free sequence by this actor's own count (it is the
 * only dispatcher for its pool's slots): {@link Dispatched} names the slot and reserves one of its
 * sequences until {@link Release}. So engines never get more than their parallel sequences, and the
 * backlog waits here, bounded, not in the engines.
 *
 * <p>A run taken from the queue whose model has no free sequence right now is held back (at most
 * {@link #MAX_HELD}) and dispatched first when one frees, so one model's busy slots do not block
 * another model's runs behind it.
 *
 * <p>Each slot has a {@link CircuitBreaker} here, fed by the outcome each run reports in its
 * {@link Release}. It lives in this actor rather than in the slot's engine actor because this actor is
 * the one dispatcher of the pool's slots (so half-open can let exactly one probe through), and because
 * only the run sees every engine-side failure (its own stall and run timeouts included), while an engine
 * actor that fails is restarted and would forget its count. A slot whose breaker is open is infeasible
 * ({@code circuit_open} in the placement narration); when no slot is left the run is rejected at once
 * with {@code engine_unavailable}, so it can fall back instead of waiting out the open duration.
 */
public final class PoolAdmission {
  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "PoolAdmission");
  /** Runs taken from the queue but waiting for a sequence of their model: at most this many. */
  static final int MAX_HELD = 16;

  public interface Command extends CborSerializable {}

  /**
   * Asks for a slot for a run. Idempotent by run id: a run already queued stays where it is, a run
   * already dispatched gets its {@link Dispatched} again, so the run actor can submit again whenever it
   * has waited long without an answer (the pool's actor may have moved to another node and lost its
   * queue).
   *
   * @param owner the run's actor, watched: if it stops, its place or sequence is freed
   * @param deadlineEpochMs the latest wall-clock time the run may start, 0 for none
   * @param submittedAtEpochMs when the run first asked: its time queued counts from here, also across
   *     submissions again
   * @param queuedJobsLimit the tenant's {@code queued_jobs} quota: runs of the tenant waiting in this
   *     pool's queue at most; 0 for no limit
   */
  public record Submit(String runId, String tenantId, PlacementSpec spec, Priority priority, long deadlineEpochMs,
      ActorRef<Reply> replyTo, ActorRef<?> owner, long submittedAtEpochMs, int queuedJobsLimit) implements Command {}

  /**
   * The run is over or gone: free its place in the queue or its reserved sequence.
   *
   * @param outcome how the run ended on its slot, for the slot's circuit breaker; null counts as neutral
   */
  public record Release(String runId, CircuitBreaker.Outcome outcome) implements Command {
    public Release(String runId) {
      this(runId, CircuitBreaker.Outcome.NEUTRAL);
    }
  }

  private record SlotUpdate(SlotStatus status) implements Command {}

  private record OwnerGone(String runId) implements Command {}

  private enum Tick implements Command { INSTANCE }

  public sealed interface Reply extends CborSerializable {}

  /** The run may start on {@code slot}, where one sequence is reserved for it; it waited {@code queuedMs} for it. */
  public record Dispatched(String runId, SlotStatus slot, long queuedMs, PlacementDecision decision) implements Reply {}

  /** The run will not be served by this pool; {@code decision} is null when placement was not the reason. */
  public record Rejected(String runId, DalangError error, PlacementDecision decision) implements Reply {}

  /**
   * How a pool's admission behaves; its clock is {@code placement}'s.
   *
   * @param lookahead runs dispatched to a slot beyond its parallel sequences, to wait in its engine
   *     actor: the next run starts the moment a sequence frees instead of after a round trip to this
   *     actor. Bounded priority inversion: at most this many runs per slot are committed early.
   */
  /**
   * @param splits the pool's A/B split now, read once a second (a completion with null: none)
   */
  public record Settings(Function<String, AdmissionSettings> queueOf, PlacementSettings placement, int lookahead, BreakerSettings breaker,
      Function<String, java.util.concurrent.CompletionStage<TrafficSplit>> splits) {
    public Settings(Function<String, AdmissionSettings> queueOf, PlacementSettings placement, int lookahead, BreakerSettings breaker) {
      this(queueOf, placement, lookahead, breaker, pool -> java.util.concurrent.CompletableFuture.completedFuture(null));
    }
  }

  private record SplitRead(TrafficSplit split) implements Command {}

  public static void init(ActorSystem<?> system, Settings settings, ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), settings, topic, metrics)).withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String poolId, Settings settings, ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      topic.tell(Topic.subscribe(ctx.messageAdapter(SlotStatus.class, SlotUpdate::new)));
      timers.startTimerWithFixedDelay(Tick.INSTANCE, Duration.ofSeconds(1));
      return new PoolAdmission(ctx, poolId, settings, metrics).behavior();
    }));
  }

  private record Waiting(Submit submit) {}

  private record Reserved(String slotId, Dispatched reply, long startedNanos) {}

  private final ActorContext<Command> ctx;
  private final String poolId;
  private final int lookahead;
  private final PlacementSettings placementSettings;
  private final TimeSource time;
  private final FleetTable fleet = new FleetTable();
  private final Placement placement;
  private final AdmissionQueue<Waiting> queue;
  private final ArrayDeque<AdmissionItem<Waiting>> held = new ArrayDeque<>();
  private final Map<String, Reserved> reserved = new HashMap<>();
  private final Map<String, Integer> busy = new HashMap<>();
  private final SlotBreakers breakers;
  private final Function<String, java.util.concurrent.CompletionStage<TrafficSplit>> splits;
  /** The pool's A/B split as last read; null: none. */
  private TrafficSplit split;
  /**
   * Runs whose owner stopped before its {@link Release} arrived (the death watch overtakes the Release,
   * which comes the longer way through sharding): slot and when, until the Release brings the outcome
   * for the slot's breaker, or {@link #OUTCOME_WAIT_NANOS} passed (then it counts as neutral).
   */
  private final Map<String, Gone> awaitingOutcome = new HashMap<>();
  private static final long OUTCOME_WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);

  private record Gone(String slotId, long atNanos) {}
  /** Moving average of how long a run holds its sequence, for the up-front deadline check. */
  private double averageRunNanos;
  private final MeterRegistry metrics;
  private final Timer decisionTimer;
  private final MultiGauge depthGauge;
  /** Tenants with a depth row, and when each last queued a run: idle ones are dropped after a while. */
  private final Map<String, Long> tenantsSeen = new HashMap<>();
  /**
   * Submissions that came before this actor heard from any slot of their model, within the status TTL
   * of its start: a fresh pool actor (first use, or moved to another node) knows no slots yet, and
   * rejecting those runs as "no slot live" would be wrong. They are taken again on each slot update,
   * and answered for good once the TTL has passed.
   */
  private final List<Submit> early = new ArrayList<>();
  private final long startedNanos;
  private static final long FORGET_IDLE_TENANT_NANOS = TimeUnit.MINUTES.toNanos(5);

  private PoolAdmission(ActorContext<Command> ctx, String poolId, Settings settings, MeterRegistry metrics) {
    this.ctx = ctx;
    this.poolId = poolId;
    this.placementSettings = settings.placement();
    this.time = settings.placement().time();
    this.startedNanos = time.nanoTime();
    this.lookahead = Math.max(0, settings.lookahead());
    this.splits = settings.splits();
    this.placement = new Placement(settings.placement().policy(), settings.placement().cacheTtl().toNanos(), settings.placement().cacheSize(),
        time);
    this.queue = new AdmissionQueue<>(settings.queueOf().apply(poolId));
    this.metrics = metrics;
    this.breakers = new SlotBreakers(poolId, settings.breaker(), metrics, time);
    this.decisionTimer = Timer.builder("dalang_placement_decision").description("Time to decide where a run goes")
        .publishPercentileHistogram().register(metrics);
    this.depthGauge = MultiGauge.builder("dalang_queue_depth").description("Runs waiting in a pool's admission queue")
        .register(metrics);
    ctx.getLog().info("pool {}: admission queue of {} runs ({}), placement {}", poolId, queue.capacity(),
        queue.settings().policy().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'), placement.policy().wireName());
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(Submit.class, this::onSubmit)
        .onMessage(Release.class, m -> {
          Gone gone = awaitingOutcome.remove(m.runId());
          if (gone != null) breakers.record(gone.slotId(), m.runId(), m.outcome(), time.nanoTime());
          release(m.runId(), m.outcome());
          return Behaviors.same();
        })
        .onMessage(OwnerGone.class, m -> {
          Reserved r = reserved.get(m.runId());
          if (r != null) awaitingOutcome.put(m.runId(), new Gone(r.slotId(), time.nanoTime()));
          release(m.runId(), null);
          return Behaviors.same();
        })
        .onMessage(SlotUpdate.class, m -> {
          SlotStatus s = m.status();
          if (!s.poolId().equals(poolId)) return Behaviors.same();
          if (time.epochMillis() - s.publishedAtMillis() > placementSettings.statusTtl().toMillis()) return Behaviors.same();
          fleet.update(withOwnCount(s));
          breakers.know(s.slotId());
          retryEarly();
          dispatch();
          return Behaviors.same();
        })
        .onMessage(SplitRead.class, m -> {
          split = m.split();
          return Behaviors.same();
        })
        .onMessageEquals(Tick.INSTANCE, () -> {
          ctx.pipeToSelf(splits.apply(poolId), (sp, err) -> new SplitRead(err != null ? split : sp));
          long now = time.nanoTime();
          fleet.expire(time.epochMillis(), placementSettings.statusTtl().toMillis());
          breakers.tick(now);
          awaitingOutcome.entrySet().removeIf(e -> {
            if (now - e.getValue().atNanos() < OUTCOME_WAIT_NANOS) return false;
            breakers.record(e.getValue().slotId(), e.getKey(), CircuitBreaker.Outcome.NEUTRAL, now);
            return true;
          });
          for (AdmissionItem<Waiting> j : queue.expire(now)) expired(j);
          for (Iterator<AdmissionItem<Waiting>> it = held.iterator(); it.hasNext(); ) {
            AdmissionItem<Waiting> j = it.next();
            if (j.expiredAt(now)) {
              it.remove();
              expired(j);
            }
          }
          publishDepth();
          retryEarly();
          dispatch();
          return Behaviors.same();
        })
        .build();
  }

  // Submission

  private Behavior<Command> onSubmit(Submit m) {
    Reserved r = reserved.get(m.runId());
    if (r != null) {
      m.replyTo().tell(r.reply());
      return Behaviors.same();
    }
    if (isWaiting(m.runId())) return Behaviors.same();
    // A new admission has heard only the statuses published since it started (each slot publishes every
    // status interval): without a Ready slot of the model yet, wait one status round before judging.
    if (fleet.all().stream().noneMatch(s -> s.modelId().equals(m.spec().modelId()) && s.ready())
        && time.nanoTime() - startedNanos < placementSettings.statusTtl().toNanos()) {
      if (early.stream().noneMatch(e -> e.runId().equals(m.runId()))) early.add(m);
      return Behaviors.same();
    }
    // Feasibility up front: a run no slot can serve is told why now, not after waiting.
    PlacementDecision check = decide(m, false);
    if (check.error() != null) {
      count("rejected", check.error().code());
      m.replyTo().tell(new Rejected(m.runId(), check.error(), check));
      return Behaviors.same();
    }
    if (m.queuedJobsLimit() > 0 && waitingOf(m.tenantId()) >= m.queuedJobsLimit()) {
      count("rejected", ErrorCode.QUOTA_EXCEEDED);
      m.replyTo().tell(new Rejected(m.runId(), new DalangError(ErrorCode.QUOTA_EXCEEDED, "quota queued_jobs exceeded: tenant "
          + m.tenantId() + " already has " + m.queuedJobsLimit() + " runs waiting in the queue of pool " + poolId, "queued_jobs", 1), null));
      return Behaviors.same();
    }
    long now = time.nanoTime();
    long deadline = m.deadlineEpochMs() <= 0 ? AdmissionItem.NO_DEADLINE : now + (m.deadlineEpochMs() - time.epochMillis()) * 1_000_000L;
    var item = new AdmissionItem<>(m.runId(), m.tenantId(), m.priority(), now, deadline, 1, new Waiting(m));
    for (AdmissionItem<Waiting> j : queue.expire(now)) expired(j);
    OfferResult<Waiting> offered = queue.offer(item, now, estimatedWaitNanos(m.spec()));
    if (offered instanceof OfferResult.Rejected<Waiting> rejected) {
      String detail = rejected.code() == ErrorCode.CAPACITY_EXHAUSTED
          ? "pool " + poolId + " is busy: " + reserved.size() + " running, " + (queue.size() + held.size()) + " queued (" + rejected.reason() + ")"
          : rejected.reason();
      count("rejected", rejected.code());
      m.replyTo().tell(new Rejected(m.runId(), DalangError.of(rejected.code(), detail), null));
      return Behaviors.same();
    }
    if (offered instanceof OfferResult.AdmittedEvicting<Waiting> evicting) {
      Submit victim = evicting.victim().payload().submit();
      count("evicted", ErrorCode.CAPACITY_EXHAUSTED);
      victim.replyTo().tell(new Rejected(victim.runId(), DalangError.of(ErrorCode.CAPACITY_EXHAUSTED,
          "evicted from the full queue of pool " + poolId + " by a run of higher priority"), null));
    }
    count("admitted", null);
    if (tenantsSeen.put(m.tenantId(), now) == null) publishDepth(); // a new tenant gets its row at once
    ctx.watchWith(m.owner(), new OwnerGone(m.runId()));
    dispatch();
    return Behaviors.same();
  }

  private void retryEarly() {
    if (early.isEmpty()) return;
    var again = new ArrayList<>(early);
    early.clear();
    again.forEach(this::onSubmit);
  }

  /** Runs of {@code tenant} waiting here: queued or held back. */
  private int waitingOf(String tenant) {
    int n = queue.depth(tenant);
    for (AdmissionItem<Waiting> j : held) if (j.tenant().equals(tenant)) n++;
    return n;
  }

  private boolean isWaiting(String runId) {
    if (queue.contains(runId)) return true;
    for (AdmissionItem<Waiting> j : held) if (j.id().equals(runId)) return true;
    return false;
  }

  /**
   * How long a new run would wait: with a free sequence for its model, nothing; else whole rounds of the
   * runs ahead of it over the model's sequences, at the average run length.
   */
  private long estimatedWaitNanos(PlacementSpec spec) {
    if (averageRunNanos <= 0) return 0;
    int total = 0;
    int free = 0;
    for (SlotStatus s : fleet.all()) {
      if (s.modelId().equals(spec.modelId()) && s.ready()) {
        total += s.slotsTotal();
        free += s.slotsFree();
      }
    }
    if (total == 0 || free > queue.size() + held.size()) return 0;
    return (long) (Math.ceil((queue.size() + held.size() + 1) / (double) total) * averageRunNanos);
  }

  // Dispatch

  private void dispatch() {
    long now = time.nanoTime();
    // Runs held back for a free sequence of their model go first, in the order they left the queue.
    for (Iterator<AdmissionItem<Waiting>> it = held.iterator(); it.hasNext(); ) {
      AdmissionItem<Waiting> j = it.next();
      if (j.expiredAt(now)) {
        it.remove();
        expired(j);
      } else if (tryStart(j, now)) {
        it.remove();
      }
    }
    while (queue.size() > 0 && held.size() < MAX_HELD && anyFree()) {
      PollResult<Waiting> next = queue.poll(now);
      next.expired().forEach(this::expired);
      if (next.next().isEmpty()) break;
      AdmissionItem<Waiting> j = next.next().get();
      if (!tryStart(j, now)) held.add(j);
    }
  }

  /** Places and starts {@code j} if a slot has a free sequence for it; false if it must wait. */
  private boolean tryStart(AdmissionItem<Waiting> j, long now) {
    Submit m = j.payload().submit();
    PlacementDecision d = decide(m, true);
    if (d.chosen() == null) {
      ErrorCode code = d.error().code();
      // Busy, or a slot restarting: wait (bounded by the deadline and the run's own timeout).
      if (code == ErrorCode.CAPACITY_EXHAUSTED || code == ErrorCode.NO_READY_SLOT) return false;
      count("rejected", code);
      m.replyTo().tell(new Rejected(m.runId(), d.error(), d));
      ctx.unwatch(m.owner());
      return true;
    }
    SlotStatus slot = fleet.find(d.chosen()).orElseThrow();
    busy.merge(slot.slotId(), 1, Integer::sum);
    breakers.dispatched(slot.slotId(), m.runId(), now);
    fleet.update(withOwnCount(slot));
    var reply = new Dispatched(m.runId(), slot, Math.max(0, time.epochMillis() - m.submittedAtEpochMs()), d);
    reserved.put(m.runId(), new Reserved(slot.slotId(), reply, now));
    count("dispatched", null);
    m.replyTo().tell(reply);
    return true;
  }

  private boolean anyFree() {
    for (SlotStatus s : fleet.all()) if (s.ready() && s.slotsFree() > 0) return true;
    return false;
  }

  private PlacementDecision decide(Submit m, boolean needFreeSequence) {
    var blocked = breakers.blocked(time.nanoTime());
    if (needFreeSequence) blocked = withOtherVersion(blocked, m.runId());
    PlacementDecision d = placement.decide(fleet, m.spec(), m.runId(), m.tenantId(), needFreeSequence, blocked);
    decisionTimer.record(d.decisionNanos(), TimeUnit.NANOSECONDS);
    metrics.counter("dalang_placement_cache", "result", d.cacheHit() ? "hit" : "miss").increment();
    return d;
  }

  /**
   * Under an A/B split, the slots of the version this run does not get are kept from it like slots with
   * an open breaker; while its own version has no Ready slot, the run may go to either.
   */
  private java.util.Set<String> withOtherVersion(java.util.Set<String> blocked, String runId) {
    TrafficSplit sp = split;
    if (sp == null) return blocked;
    String version = sp.versionFor(runId);
    if (fleet.all().stream().noneMatch(s -> s.ready() && version.equals(s.modelVersion()))) return blocked;
    var out = new java.util.HashSet<>(blocked);
    for (SlotStatus s : fleet.all()) if (!version.equals(s.modelVersion())) out.add(s.slotId());
    return out;
  }

  /**
   * {@code s} with this actor's own count of free places (its parallel sequences plus the lookahead,
   * less the runs dispatched to it); the engine's own count lags behind dispatches.
   */
  private SlotStatus withOwnCount(SlotStatus s) {
    int free = Math.max(0, s.slotsTotal() + (s.slotsTotal() > 0 ? lookahead : 0) - busy.getOrDefault(s.slotId(), 0));
    return free == s.slotsFree() && s.queued() == 0 ? s : s.withLoad(free, 0);
  }

  // Leaving

  /** @param outcome for the slot's breaker; null: not known yet (see {@link #awaitingOutcome}) */
  private void release(String runId, CircuitBreaker.Outcome outcome) {
    Reserved r = reserved.remove(runId);
    if (r != null) {
      if (outcome != null) breakers.record(r.slotId(), runId, outcome, time.nanoTime());
      long took = time.nanoTime() - r.startedNanos();
      averageRunNanos = averageRunNanos <= 0 ? took : 0.8 * averageRunNanos + 0.2 * took;
      busy.computeIfPresent(r.slotId(), (k, n) -> n > 1 ? n - 1 : null);
      fleet.find(r.slotId()).ifPresent(s -> fleet.update(withOwnCount(s)));
      dispatch();
      return;
    }
    // Still waiting: leave the queue quietly (the run is gone, nobody to answer).
    if (queue.remove(runId).isEmpty()) held.removeIf(j -> j.id().equals(runId));
  }

  private void expired(AdmissionItem<Waiting> j) {
    Submit m = j.payload().submit();
    count("rejected", ErrorCode.TIMEOUT);
    m.replyTo().tell(new Rejected(m.runId(), DalangError.of(ErrorCode.TIMEOUT,
        "the run's deadline passed while it waited in the queue of pool " + poolId), null));
    ctx.unwatch(m.owner());
  }

  // Metrics

  private void count(String outcome, ErrorCode code) {
    metrics.counter("dalang_admissions", "pool", poolId, "outcome", outcome, "reason", code == null ? "" : code.code()).increment();
  }

  private void publishDepth() {
    var rows = new ArrayList<MultiGauge.Row<?>>();
    Map<String, Integer> heldBy = new HashMap<>();
    for (AdmissionItem<Waiting> j : held) heldBy.merge(j.tenant(), 1, Integer::sum);
    long now = time.nanoTime();
    for (Iterator<Map.Entry<String, Long>> it = tenantsSeen.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      int depth = queue.depth(e.getKey()) + heldBy.getOrDefault(e.getKey(), 0);
      if (depth == 0 && now - e.getValue() > FORGET_IDLE_TENANT_NANOS) {
        it.remove();
      } else {
        rows.add(MultiGauge.Row.of(Tags.of("pool", poolId, "tenant", e.getKey()), depth));
      }
    }
    depthGauge.register(rows, true);
  }
}
