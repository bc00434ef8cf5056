package io.dalang.actors.pool;

import com.typesafe.config.Config;
import io.dalang.actors.NodeRoles;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.node.NodeAgent;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.gguf.GgufReader;
import io.dalang.gguf.MemoryEstimator;
import io.dalang.protocols.CborSerializable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;
import org.apache.pekko.cluster.typed.Subscribe;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Keeps every pool at its replica count across the cluster: one writer of placements, a cluster
 * singleton on the control nodes. Each pass reads every pool and executor, works out from cluster
 * membership which nodes are live, gone or in between ({@link ReplicaPlan.NodeState}) and applies the
 * {@link ReplicaPlan}: a replica on a gone node is marked lost (slot {@code Lost}, taken from its
 * executor, removed from the pool), a replica its executor lacks is assigned again, a missing replica is
 * added to the pool, provisioned and assigned to the chosen node's executor; the node agents are then
 * told to sync.
 *
 * <p>A node is gone once the cluster downed or removed it, as this reconciler saw; one it never saw
 * (it took over from another control node, or the journal names an address of an earlier run) counts as
 * gone only after being absent for {@code lost-after}, so a restarting node has time to register again.
 *
 * <p>Missing replicas are placed only once the gpu nodes settled: no other gpu node joined within
 * {@code settle}, and every gpu member that is Up registered its executor. Nodes started together
 * thus share a pool's replicas instead of the first to register taking them all. Lost replicas are
 * marked at once.
 *
 * <p>Passes run every {@code reconcile-interval}, on membership changes and on {@link ReconcileNow};
 * never two at once.
 */
public final class ReplicaReconciler {
  /** For the steps of a pass, which run outside the actor. */
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ReplicaReconciler.class);

  public interface Command extends CborSerializable {}

  /** Runs a pass as soon as the current one (if any) is done. */
  public record ReconcileNow() implements Command {}

  private record Gathered(Snapshot snapshot, Throwable error) implements Command {}

  private record Applied(List<ReplicaPlan.Action> actions, Throwable error) implements Command {}

  private record MemberChanged(ClusterEvent.MemberEvent event) implements Command {}

  private record AgentsChanged(Receptionist.Listing listing) implements Command {}

  private enum Tick implements Command { INSTANCE }

  /**
   * What one pass read: every pool, every executor, each pool's memory per replica where known, and which
   * of the replicas of pools in a rollout are Ready (their slot entities say so).
   */
  private record Snapshot(List<PoolEntity.PoolView> pools, List<ExecutorEntity.ExecutorView> executors, Map<String, Long> memoryMib,
      Map<String, io.dalang.gguf.OffloadProfile> offload, Set<String> ready, Map<String, Long> blobBytes, DiskRoom disk) {
    Snapshot(List<PoolEntity.PoolView> pools, List<ExecutorEntity.ExecutorView> executors, Map<String, Long> memoryMib,
        Map<String, io.dalang.gguf.OffloadProfile> offload, Set<String> ready) {
      this(pools, executors, memoryMib, offload, ready, Map.of(), DiskRoom.UNKNOWN);
    }
  }

  /** A pool's memory per replica on the CPU, and per layer for a GPU. */
  private record Footprint(long mib, io.dalang.gguf.OffloadProfile offload) {}

  /**
   * @param interval how often a pass runs without a reason
   * @param lostAfter how long a node the reconciler never saw leave must be absent before its replicas are lost
   * @param settle how long after another gpu node joined missing replicas wait for more nodes
   * @param askTimeout for each entity asked or told to change
   */
  public record Settings(Duration interval, Duration lostAfter, Duration settle, Duration askTimeout) {
    public static Settings from(Config c) {
      Config p = c.getConfig("dalang.placement");
      return new Settings(p.getDuration("reconcile-interval"), p.getDuration("lost-after"), p.getDuration("settle"), Duration.ofSeconds(10));
    }
  }

  /** Starts the singleton (or its proxy); call on control nodes after the journal is ready. */
  public static ActorRef<Command> init(ActorSystem<?> system, Settings settings) {
    var behavior = Behaviors.supervise(create(settings, type -> journalIds(system, type))).onFailure(SupervisorStrategy.restart());
    return ClusterSingleton.get(system).init(SingletonActor.of(behavior, "replica-reconciler")
        .withSettings(ClusterSingletonSettings.create(system).withRole(NodeRoles.CONTROL)));
  }

  /**
   * @param idsOf the ids of every entity of a type ({@code Pool}, {@code Executor}) that was ever persisted
   */
  public static Behavior<Command> create(Settings settings, Function<String, CompletionStage<List<String>>> idsOf) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      timers.startTimerWithFixedDelay(Tick.INSTANCE, settings.interval());
      Cluster.get(ctx.getSystem()).subscriptions().tell(Subscribe.create(
          ctx.messageAdapter(ClusterEvent.MemberEvent.class, MemberChanged::new), ClusterEvent.MemberEvent.class));
      ctx.getSystem().receptionist().tell(Receptionist.subscribe(NodeAgent.SERVICE_KEY,
          ctx.messageAdapter(Receptionist.Listing.class, AgentsChanged::new)));
      return new ReplicaReconciler(ctx, settings, idsOf).idle();
    }));
  }

  /** Entity ids of one type, from the journal's persistence ids ({@code Type|id}). */
  public static CompletionStage<List<String>> journalIds(ActorSystem<?> system, String type) {
    var journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    String prefix = type + "|";
    return journal.currentPersistenceIds().filter(id -> id.startsWith(prefix)).map(id -> id.substring(prefix.length()))
        .runWith(Sink.seq(), system);
  }

  private final ActorContext<Command> ctx;
  private final Settings settings;
  private final Function<String, CompletionStage<List<String>>> idsOf;
  private final ClusterSharding sharding;
  private final Executor blocking;
  /** Addresses this reconciler saw downed or removed (a new incarnation coming Up clears its address). */
  private final Set<String> gone = new HashSet<>();
  /** When each executor's address was first seen missing from the membership, by node id. */
  private final Map<String, Long> absentSince = new HashMap<>();
  /** When each Up gpu member was first seen without a registered executor, by address. */
  private final Map<String, Long> unregisteredSince = new HashMap<>();
  /** When a gpu node other than this one last joined or came Up; 0: never seen. */
  private long lastGpuJoinNanos;
  private final Map<String, String> lastUnplaceable = new HashMap<>();
  private final Map<String, Footprint> estimates = new ConcurrentHashMap<>();
  private Set<ActorRef<NodeAgent.Command>> agents = Set.of();
  private boolean again;

  private ReplicaReconciler(ActorContext<Command> ctx, Settings settings, Function<String, CompletionStage<List<String>>> idsOf) {
    this.ctx = ctx;
    this.settings = settings;
    this.idsOf = idsOf;
    this.sharding = ClusterSharding.get(ctx.getSystem());
    this.blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
  }

  private Behavior<Command> idle() {
    return common()
        .onMessage(ReconcileNow.class, m -> startPass())
        .onMessageEquals(Tick.INSTANCE, this::startPass)
        .onMessage(Gathered.class, m -> Behaviors.same())
        .onMessage(Applied.class, m -> Behaviors.same())
        .build();
  }

  private Behavior<Command> passing() {
    return common()
        .onMessage(ReconcileNow.class, m -> {
          again = true;
          return Behaviors.same();
        })
        .onMessageEquals(Tick.INSTANCE, Behaviors::same)
        .onMessage(Gathered.class, this::onGathered)
        .onMessage(Applied.class, this::onApplied)
        .build();
  }

  private org.apache.pekko.actor.typed.javadsl.BehaviorBuilder<Command> common() {
    return Behaviors.<Command>receive(Command.class)
        .onMessage(MemberChanged.class, m -> {
          String address = m.event().member().address().toString();
          if (m.event() instanceof ClusterEvent.MemberDowned || m.event() instanceof ClusterEvent.MemberRemoved) {
            if (gone.add(address)) ctx.getLog().info("member {} is {}; its replicas will be placed again", address, m.event().member().status());
          } else if (m.event() instanceof ClusterEvent.MemberUp || m.event() instanceof ClusterEvent.MemberJoined) {
            if (m.event() instanceof ClusterEvent.MemberUp) gone.remove(address);
            boolean self = m.event().member().address().equals(Cluster.get(ctx.getSystem()).selfMember().address());
            if (!self && m.event().member().hasRole(NodeRoles.GPU)) lastGpuJoinNanos = System.nanoTime();
          }
          ctx.getSelf().tell(new ReconcileNow());
          return Behaviors.same();
        })
        .onMessage(AgentsChanged.class, m -> {
          var now = m.listing().getServiceInstances(NodeAgent.SERVICE_KEY);
          // A pass may have assigned slots to a new agent's node before the listing named it.
          for (var agent : now) if (!agents.contains(agent)) agent.tell(new NodeAgent.SyncNow());
          agents = now;
          return Behaviors.same();
        });
  }

  // A pass: gather, plan, apply

  private Behavior<Command> startPass() {
    again = false;
    // A control node on its way out hands the singleton over; its entities are going away too.
    if (Cluster.get(ctx.getSystem()).selfMember().status() != MemberStatus.up()
        || org.apache.pekko.actor.CoordinatedShutdown.get(ctx.getSystem()).getShutdownReason().isPresent()) {
      return idle();
    }
    ctx.pipeToSelf(gather(), (s, err) -> new Gathered(s, err));
    return passing();
  }

  private CompletionStage<Snapshot> gather() {
    var pools = PoolEntity.all(sharding, idsOf, settings.askTimeout());
    var executors = idsOf.apply("Executor").thenCompose(ids -> all(ids, id ->
        sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, id).<ExecutorEntity.ExecutorView>ask(ExecutorEntity.GetExecutor::new,
            settings.askTimeout())));
    // Reading model headers touches the disk: not on the actor's thread.
    var ready = pools.thenCompose(this::readyInRollouts);
    var disk = caches();
    return pools.thenCombine(executors, (p, e) -> new Snapshot(p, e, Map.of(), Map.of(), Set.of()))
        .thenApplyAsync(s -> footprints(s.pools(), s.executors()), blocking)
        .thenCombine(ready, (s, r) -> new Snapshot(s.pools(), s.executors(), s.memoryMib(), s.offload(), r, s.blobBytes(), s.disk()))
        .thenCombine(disk, (s, d) -> new Snapshot(s.pools(), s.executors(), s.memoryMib(), s.offload(), s.ready(), s.blobBytes(), d));
  }

  /** The GPU nodes' model caches as they answer now; a node that does not answer in time is left out (not held back). */
  private CompletionStage<DiskRoom> caches() {
    return io.dalang.actors.model.ModelCacheAgent.all(ctx.getSystem(), Duration.ofSeconds(3)).thenApply(DiskRoom::of)
        .exceptionally(e -> DiskRoom.UNKNOWN);
  }

  /** The Ready replicas of pools in a rollout: a new one Ready lets an old one go. */
  private CompletionStage<Set<String>> readyInRollouts(List<PoolEntity.PoolView> pools) {
    var slots = pools.stream().filter(p -> p.exists() && p.rollingOut()).flatMap(p -> p.slots().stream()).map(PoolEntity.SlotPlacement::slotId).toList();
    // A slot that does not answer now counts as not Ready: nothing is retired on its account.
    return all(slots, id -> sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, id)
        .<ModelSlotEntity.SlotView>ask(ModelSlotEntity.GetSlot::new, settings.askTimeout()).exceptionally(e -> null))
        .thenApply(views -> {
          var ready = new HashSet<String>();
          for (var v : views) if (v != null && "Ready".equals(v.state())) ready.add(v.slotId());
          return Set.copyOf(ready);
        });
  }

  private static <T> CompletionStage<List<T>> all(List<String> ids, Function<String, CompletionStage<T>> ask) {
    var futures = ids.stream().map(id -> ask.apply(id).toCompletableFuture()).toList();
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).thenApply(v -> futures.stream().map(CompletableFuture::join).toList());
  }

  /**
   * Each pool's memory per replica (and per layer) from its model file's header; pools whose model cannot
   * be read are left out.
   */
  private Snapshot footprints(List<PoolEntity.PoolView> pools, List<ExecutorEntity.ExecutorView> executors) {
    var mib = new HashMap<String, Long>();
    var offload = new HashMap<String, io.dalang.gguf.OffloadProfile>();
    var blobs = new HashMap<String, Long>();
    for (PoolEntity.PoolView v : pools) {
      if (!v.exists()) continue;
      footprint(v.poolId(), v.spec(), v.poolId(), mib, offload);
      blobBytes(v.spec(), v.poolId(), blobs);
      if (v.rollingOut()) {
        footprint(v.poolId(), v.rollout().next(), ReplicaPlan.nextKey(v.poolId()), mib, offload);
        blobBytes(v.rollout().next(), ReplicaPlan.nextKey(v.poolId()), blobs);
      }
    }
    return new Snapshot(pools, executors, mib, offload, Set.of(), blobs, DiskRoom.UNKNOWN);
  }

  /** The size of a catalog model's blob (in the control node's store), which a GPU node's cache must take. */
  private static void blobBytes(PoolSpec s, String key, Map<String, Long> out) {
    if (s.catalogRef() == null || !s.loadsModelFile()) return;
    try {
      out.put(key, java.nio.file.Files.size(Path.of(s.modelPath())));
    } catch (java.io.IOException | RuntimeException e) {
      // unknown: the disk does not hold the replica back (its pull says why, should it fail)
    }
  }

  /** The memory of one replica of {@code s}, under {@code key}; left out when the model cannot be read. */
  private void footprint(String poolId, PoolSpec s, String key, Map<String, Long> mib, Map<String, io.dalang.gguf.OffloadProfile> offload) {
    if (!s.loadsModelFile()) return; // an upstream's or the simulator's replica takes no memory here
    String cacheKey = s.modelPath() + "|" + s.modelDigest() + "|" + s.contextPerSequence() + "|" + s.parallel();
    Footprint f = estimates.get(cacheKey);
    if (f == null) {
      try {
        var gguf = GgufReader.read(Path.of(s.modelPath()));
        long overhead = ReplicaPlan.ENGINE_OVERHEAD_MIB << 20;
        f = new Footprint(MemoryEstimator.estimate(gguf, s.contextPerSequence(), s.parallel(), overhead).totalMib(),
            io.dalang.gguf.OffloadProfile.of(gguf, s.contextPerSequence(), s.parallel(), overhead));
        estimates.put(cacheKey, f);
      } catch (java.io.IOException | RuntimeException e) {
        log.warn("pool {}: cannot estimate the memory of model {}: {}", poolId, s.modelPath(), e.getMessage());
        return;
      }
    }
    mib.put(key, f.mib());
    offload.put(key, f.offload());
  }

  private Behavior<Command> onGathered(Gathered m) {
    if (m.error() != null) {
      ctx.getLog().warn("replica reconciliation could not read the pools and executors: {}", m.error().getMessage());
      return done();
    }
    var nodes = nodeStates(m.snapshot().executors());
    var snap = m.snapshot();
    var actions = ReplicaPlan.plan(snap.pools(), nodes, snap.memoryMib(), snap.offload(), snap.ready(), snap.disk(), snap.blobBytes());
    if (!settled(m.snapshot().executors())) {
      // Placing waits; losing and repairing do not.
      actions = actions.stream().filter(a -> a instanceof ReplicaPlan.Lose || a instanceof ReplicaPlan.Assign || a instanceof ReplicaPlan.Retire).toList();
    }
    var changes = actions.stream().filter(a -> !(a instanceof ReplicaPlan.Unplaceable)).toList();
    for (var a : actions) {
      if (a instanceof ReplicaPlan.Unplaceable u && !u.reason().equals(lastUnplaceable.put(u.poolId(), u.reason()))) {
        ctx.getLog().warn("pool {}: {} replica(s) missing and none can be placed now: {}", u.poolId(), u.missing(), u.reason());
      }
    }
    if (changes.isEmpty()) return done();
    CompletionStage<Done> chain = CompletableFuture.completedFuture(Done.getInstance());
    for (var a : changes) chain = chain.thenCompose(d -> apply(a));
    ctx.pipeToSelf(chain, (d, err) -> new Applied(changes, err));
    return Behaviors.same();
  }

  private Map<String, ReplicaPlan.Node> nodeStates(List<ExecutorEntity.ExecutorView> executors) {
    var state = Cluster.get(ctx.getSystem()).state();
    var members = new HashMap<String, Member>();
    for (Member mb : state.getMembers()) members.put(mb.address().toString(), mb);
    var unreachable = new HashSet<String>();
    for (Member mb : state.getUnreachable()) unreachable.add(mb.address().toString());
    long now = System.nanoTime();
    var out = new HashMap<String, ReplicaPlan.Node>();
    for (var e : executors) {
      if (!e.registered()) continue;
      String address = e.address();
      Member mb = members.get(address);
      ReplicaPlan.NodeState s;
      if (mb != null && mb.status() != MemberStatus.down() && mb.status() != MemberStatus.removed()) {
        absentSince.remove(e.nodeId());
        boolean up = mb.status() == MemberStatus.up() || mb.status() == MemberStatus.weaklyUp();
        s = up && !unreachable.contains(address) ? ReplicaPlan.NodeState.LIVE : ReplicaPlan.NodeState.UNKNOWN;
      } else if (mb != null || gone.contains(address)) {
        s = ReplicaPlan.NodeState.GONE;
      } else {
        long since = absentSince.computeIfAbsent(e.nodeId(), k -> now);
        s = now - since >= settings.lostAfter().toNanos() ? ReplicaPlan.NodeState.GONE : ReplicaPlan.NodeState.UNKNOWN;
      }
      // A node that said it is leaving (its agent drains) is replaced now; it is lost only once gone.
      if (s != ReplicaPlan.NodeState.GONE && !e.healthy()) s = ReplicaPlan.NodeState.DRAINING;
      out.put(e.nodeId(), new ReplicaPlan.Node(e, s));
    }
    return out;
  }

  /** No other gpu node joined within {@code settle}, and every Up gpu member registered (or had lost-after to do so). */
  private boolean settled(List<ExecutorEntity.ExecutorView> executors) {
    long now = System.nanoTime();
    if (lastGpuJoinNanos != 0 && now - lastGpuJoinNanos < settings.settle().toNanos()) return false;
    var registered = new HashSet<String>();
    for (var e : executors) if (e.registered()) registered.add(e.address());
    boolean waiting = false;
    var seen = new HashSet<String>();
    for (Member mb : Cluster.get(ctx.getSystem()).state().getMembers()) {
      String address = mb.address().toString();
      if (mb.status() != MemberStatus.up() || !mb.hasRole(NodeRoles.GPU) || registered.contains(address)) continue;
      seen.add(address);
      long since = unregisteredSince.computeIfAbsent(address, k -> now);
      if (now - since < settings.lostAfter().toNanos()) waiting = true;
    }
    unregisteredSince.keySet().retainAll(seen);
    return !waiting;
  }

  private CompletionStage<Done> apply(ReplicaPlan.Action a) {
    if (a instanceof ReplicaPlan.Lose l) return lose(l);
    if (a instanceof ReplicaPlan.Place p) return place(p);
    if (a instanceof ReplicaPlan.Retire r) return retire(r);
    if (a instanceof ReplicaPlan.Assign as) {
      log.info("slot {} of pool {}: assigning it to node {} again (its executor runs another spec or none)", as.spec().slotId(),
          as.poolId(), as.spec().nodeId());
      return assign(as.spec());
    }
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  /** Slot Lost, taken from its executor, then out of the pool: a pass cut short is finished by the next one. */
  private CompletionStage<Done> lose(ReplicaPlan.Lose l) {
    log.info("slot {} of pool {} is gone (lost, or stopped if it was drained): {}", l.placement().slotId(), l.poolId(), l.reason());
    var t = settings.askTimeout();
    return sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, l.placement().slotId())
        .<ModelSlotEntity.SlotView>askWithStatus(r -> new ModelSlotEntity.MarkLost(l.reason(), r), t)
        .handle((v, err) -> Done.getInstance()) // a slot never provisioned has nothing to lose
        .thenCompose(d -> sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, l.placement().nodeId())
            .<ExecutorEntity.ExecutorView>askWithStatus(r -> new ExecutorEntity.UnassignSlot(l.placement().slotId(), r), t))
        .thenCompose(v -> sharding.entityRefFor(PoolEntity.ENTITY_KEY, l.poolId())
            .<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.RemoveSlot(l.placement().slotId(), l.reason(), r), t))
        .thenApply(v -> Done.getInstance());
  }

  /**
   * Slot Draining, taken from its executor (whose agent drains the engine: its runs finish, no new ones
   * come, then it stops), then out of the pool. Each step is idempotent: a pass cut short is finished by
   * the next one, which still sees the surplus.
   */
  private CompletionStage<Done> retire(ReplicaPlan.Retire r) {
    log.info("slot {} of pool {} on node {}: retiring it (the pool was scaled down or is rolling out); its runs finish first",
        r.placement().slotId(), r.poolId(), r.placement().nodeId());
    var t = settings.askTimeout();
    return sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, r.placement().slotId())
        .<ModelSlotEntity.SlotView>askWithStatus(ModelSlotEntity.Drain::new, t)
        .handle((v, err) -> Done.getInstance()) // not ready (still loading, failed): nothing to drain
        .thenCompose(d -> sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, r.placement().nodeId())
            .<ExecutorEntity.ExecutorView>askWithStatus(x -> new ExecutorEntity.UnassignSlot(r.placement().slotId(), x), t))
        .thenCompose(v -> sharding.entityRefFor(PoolEntity.ENTITY_KEY, r.poolId())
            .<PoolEntity.PoolView>askWithStatus(x -> new PoolEntity.RemoveSlot(r.placement().slotId(), "scaled down", x), t))
        .thenApply(v -> Done.getInstance());
  }

  /** Into the pool, provisioned, assigned to the node's executor; the node's agent starts it on its next sync. */
  private CompletionStage<Done> place(ReplicaPlan.Place p) {
    var t = settings.askTimeout();
    var placement = new PoolEntity.SlotPlacement(p.slotId(), p.nodeId(), p.deviceId(), p.gpuLayers(), p.next(), p.upstream());
    return sharding.entityRefFor(PoolEntity.ENTITY_KEY, p.poolId())
        .<PoolEntity.PoolView>askWithStatus(r -> new PoolEntity.AddSlot(placement, r), t)
        .thenCompose(view -> assign(view.slotSpecs().stream().filter(s -> s.slotId().equals(p.slotId())).findFirst().orElseThrow()))
        .thenApply(v -> {
          log.info("placed slot {} of pool {} on node {} device {} (about {} MiB{}{})", p.slotId(), p.poolId(), p.nodeId(),
              p.deviceId(), p.memoryMib(), p.gpuLayers() > 0 ? ", " + p.gpuLayers() + " layers on the device" : "",
              p.next() ? ", the rollout's new version" : "");
          return Done.getInstance();
        });
  }

  /**
   * Provisioned (a slot provisioned before keeps its first spec: its engine's {@code BeginLoading} carries
   * the new one), then assigned to the node's executor.
   */
  private CompletionStage<Done> assign(SlotSpec spec) {
    var t = settings.askTimeout();
    return sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, spec.slotId())
        .<ModelSlotEntity.SlotView>askWithStatus(r -> new ModelSlotEntity.Provision(spec, r), t)
        .handle((v, err) -> Done.getInstance())
        .thenCompose(d -> sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, spec.nodeId())
            .<ExecutorEntity.ExecutorView>askWithStatus(r -> new ExecutorEntity.AssignSlot(spec, r), t))
        .thenApply(v -> Done.getInstance());
  }

  private Behavior<Command> onApplied(Applied m) {
    if (m.error() != null) ctx.getLog().warn("replica reconciliation stopped part way (the next pass goes on): {}", m.error().getMessage());
    for (var a : agents) a.tell(new NodeAgent.SyncNow());
    return done();
  }

  private Behavior<Command> done() {
    if (again) return startPass();
    return idle();
  }
}
