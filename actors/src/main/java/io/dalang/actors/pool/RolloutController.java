package io.dalang.actors.pool;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.protocols.CborSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Moves every pool's {@link Rollout} along (a cluster singleton on the control nodes): it watches the new
 * replicas' slots and the runs they serve, and takes the steps the replica reconciler cannot judge —
 * canary to rolling when the health gate passes, to rolling-back when it fails or a new replica crash
 * loops, promotion once every old replica is gone, rolled-back once the new ones are. The reconciler adds
 * and retires the replicas each phase asks for; each step here is told to {@code onStep} (the audit
 * ledger) and nudges the reconciler.
 */
public final class RolloutController {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(RolloutController.class);

  private RolloutController() {}

  public sealed interface Command extends CborSerializable {}

  enum Tick implements Command { INSTANCE }

  record Passed(List<Step> steps, Throwable error) implements Command {}

  /** A step taken: the pool, its rollout's target, the phases, and why. */
  public record Step(String poolId, String target, String from, String to, String note) {}

  /**
   * @param interval how often rollouts are looked at ({@code dalang.placement.reconcile-interval})
   * @param failedTicks how many looks in a row a new replica may be Failed before it counts as a crash loop
   */
  public record Settings(Duration interval, Duration askTimeout, int failedTicks) {}

  public static ActorRef<Command> init(ActorSystem<?> system, Settings settings, ActorRef<TelemetryActor.Command> telemetry,
      ActorRef<ReplicaReconciler.Command> reconciler, Consumer<Step> onStep) {
    Function<String, CompletionStage<List<String>>> ids = type -> ReplicaReconciler.journalIds(system, type);
    var behavior = Behaviors.supervise(create(settings, ids, telemetry, reconciler, onStep)).onFailure(SupervisorStrategy.restart());
    return ClusterSingleton.get(system).init(SingletonActor.of(behavior, "rollout-controller")
        .withSettings(ClusterSingletonSettings.create(system).withRole(NodeRoles.CONTROL)));
  }

  static Behavior<Command> create(Settings settings, Function<String, CompletionStage<List<String>>> idsOf,
      ActorRef<TelemetryActor.Command> telemetry, ActorRef<ReplicaReconciler.Command> reconciler, Consumer<Step> onStep) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
      return new Pass(ctx, settings, idsOf, telemetry, reconciler, onStep).idle();
    }));
  }

  /** What one look read of one pool: its view, its slots' states (an unanswered slot is left out) and its runs by version. */
  record Seen(PoolEntity.PoolView pool, Map<String, ModelSlotEntity.SlotView> slots, TelemetryActor.VersionStats stats) {}

  record Looked(List<Seen> seen, Throwable error) implements Command {}

  /**
   * One look at every pool in a rollout at a time; the next tick starts the next. The asks run off the
   * actor; what they read comes back as a message, and the judging, the count of failed looks and the
   * steps start on the actor's thread. A pool whose slots or runs cannot be read this time is skipped,
   * and a step one pool cannot take does not keep the others from theirs.
   */
  private static final class Pass {
    private final ActorContext<Command> ctx;
    private final Settings settings;
    private final Function<String, CompletionStage<List<String>>> idsOf;
    private final ActorRef<TelemetryActor.Command> telemetry;
    private final ActorRef<ReplicaReconciler.Command> reconciler;
    private final Consumer<Step> onStep;
    private final ClusterSharding sharding;
    private final org.apache.pekko.actor.typed.Scheduler scheduler;
    /** Looks in a row each new replica was Failed; only touched on the actor's thread. */
    private final Map<String, Integer> failedLooks = new HashMap<>();

    Pass(ActorContext<Command> ctx, Settings settings, Function<String, CompletionStage<List<String>>> idsOf,
        ActorRef<TelemetryActor.Command> telemetry, ActorRef<ReplicaReconciler.Command> reconciler, Consumer<Step> onStep) {
      this.ctx = ctx;
      this.settings = settings;
      this.idsOf = idsOf;
      this.telemetry = telemetry;
      this.reconciler = reconciler;
      this.onStep = onStep;
      this.sharding = ClusterSharding.get(ctx.getSystem());
      this.scheduler = ctx.getSystem().scheduler();
    }

    Behavior<Command> idle() {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Tick.INSTANCE, () -> {
            ctx.pipeToSelf(look(), (seen, err) -> new Looked(seen, err));
            return busy();
          })
          .onMessage(Looked.class, m -> Behaviors.same())
          .onMessage(Passed.class, m -> Behaviors.same())
          .build();
    }

    Behavior<Command> busy() {
      return Behaviors.receive(Command.class)
          .onMessageEquals(Tick.INSTANCE, Behaviors::same)
          .onMessage(Looked.class, m -> {
            boolean leaving = org.apache.pekko.actor.CoordinatedShutdown.get(ctx.getSystem()).getShutdownReason().isPresent();
            if (m.error() != null && leaving) {
              return idle(); // the node is stopping: its pools' shards are going away, nothing to report
            }
            if (m.error() != null) {
              ctx.getLog().warn("rollouts: the pools could not be read (the next look goes on): {}", m.error().getMessage());
              return idle();
            }
            var steps = new ArrayList<CompletionStage<Step>>();
            var rolling = new java.util.HashSet<String>();
            for (Seen seen : m.seen()) {
              for (var p : seen.pool().slots()) {
                rolling.add(p.slotId());
                var v = seen.slots().get(p.slotId());
                if (v != null && "Failed".equals(v.state())) failedLooks.merge(p.slotId(), 1, Integer::sum);
                else failedLooks.remove(p.slotId());
              }
              var d = RolloutJudge.decide(seen.pool(), seen.slots(), failedLooks, settings.failedTicks(), seen.stats(), System.currentTimeMillis());
              if (d != null) steps.add(take(seen.pool(), d));
            }
            failedLooks.keySet().retainAll(rolling);
            ctx.pipeToSelf(all(steps), (taken, err) -> new Passed(taken, err));
            return Behaviors.same();
          })
          .onMessage(Passed.class, m -> {
            for (Step s : m.steps() == null ? List.<Step>of() : m.steps()) {
              if (s == null) continue;
              ctx.getLog().info("pool {}: rollout to {} {} -> {}: {}", s.poolId(), s.target(), s.from(), s.to(), s.note());
              onStep.accept(s);
            }
            if (m.steps() != null && m.steps().stream().anyMatch(x -> x != null)) reconciler.tell(new ReplicaReconciler.ReconcileNow());
            return idle();
          })
          .build();
    }

    /** Every pool in a rollout, with its slots and runs; when a pool cannot be read now, the look fails (the next pass looks again). */
    private CompletionStage<List<Seen>> look() {
      var t = settings.askTimeout();
      return PoolEntity.all(sharding, idsOf, t).thenCompose(pools -> {
        var rolling = pools.stream().filter(PoolEntity.PoolView::rollingOut).toList();
        return all(rolling.stream().map(this::read).toList()).thenApply(seen -> seen.stream().filter(x -> x != null).toList());
      });
    }

    private CompletionStage<Seen> read(PoolEntity.PoolView pool) {
      var t = settings.askTimeout();
      var slots = all(pool.slots().stream().map(p -> sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, p.slotId())
          .<ModelSlotEntity.SlotView>ask(ModelSlotEntity.GetSlot::new, t).exceptionally(e -> null)).toList());
      var stats = AskPattern.<TelemetryActor.Command, TelemetryActor.VersionStats>ask(telemetry,
          r -> new TelemetryActor.GetVersionStats(pool.poolId(), pool.rollout().startedAt().toEpochMilli(), r), t, scheduler);
      return slots.thenCombine(stats, (views, st) -> {
        var byId = new HashMap<String, ModelSlotEntity.SlotView>();
        for (var v : views) if (v != null) byId.put(v.slotId(), v);
        return new Seen(pool, byId, st);
      }).exceptionally(e -> null);
    }

    /** Takes one step; a refused one (an operator paused the rollout meanwhile) is logged and dropped. */
    private CompletionStage<Step> take(PoolEntity.PoolView pool, RolloutJudge.Decision d) {
      var t = settings.askTimeout();
      var ref = sharding.entityRefFor(PoolEntity.ENTITY_KEY, pool.poolId());
      String from = pool.rollout().phase();
      CompletionStage<PoolEntity.PoolView> done = d.to().equals(Rollout.DONE)
          ? ref.askWithStatus(r -> new PoolEntity.PromoteRollout(d.note(), r), t)
          : ref.askWithStatus(r -> new PoolEntity.StepRollout(from, d.to(), d.note(), r), t);
      return done.handle((v, err) -> {
        if (err != null) {
          log.info("pool {}: rollout step {} -> {} not taken: {}", pool.poolId(), from, d.to(), err.getMessage());
          return null;
        }
        return new Step(pool.poolId(), pool.rollout().target(), from, d.to(), d.note());
      });
    }

    private static <T> CompletionStage<List<T>> all(List<CompletionStage<T>> stages) {
      var fs = stages.stream().map(CompletionStage::toCompletableFuture).toList();
      return CompletableFuture.allOf(fs.toArray(CompletableFuture[]::new)).thenApply(v -> {
        var out = new ArrayList<T>();
        for (var f : fs) out.add(f.join());
        return out;
      });
    }
  }
}
