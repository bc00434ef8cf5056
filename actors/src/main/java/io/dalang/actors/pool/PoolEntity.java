package io.dalang.actors.pool;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.Refusal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * A pool: one model served by a set of replica slots spread over nodes. It holds the desired state
 * ({@link PoolSpec}) and where each replica was placed; the slots themselves are {@code ModelSlotEntity}s.
 *
 * <p>{@link CreatePool} replies the new view (error if it exists or the spec is invalid);
 * {@link SetEngine} and {@link AddSlot} reply the updated view; {@link RemoveSlot} (a replica that was
 * lost with its node) replies the updated view, also when the slot was not in the pool;
 * {@link GetPool} replies a view whose {@code exists} is false for an unknown pool.
 */
public final class PoolEntity
    extends EventSourcedBehaviorWithEnforcedReplies<PoolEntity.Command, PoolEntity.Event, PoolEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Pool");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())).withRole(NodeRoles.CONTROL));
  }

  /**
   * Every pool there is, by id: the views of the pools named by {@code idsOf("Pool")} (the journal's, see
   * {@link ReplicaReconciler#journalIds}) that exist. A pool that does not answer within {@code timeout} fails
   * the whole stage: a caller that guards something by the list (a model version in use is not removed)
   * must not act on part of it. The admin routes, the replica reconciler and the rollout controller all
   * list pools this way.
   */
  public static java.util.concurrent.CompletionStage<List<PoolView>> all(ClusterSharding sharding,
      java.util.function.Function<String, java.util.concurrent.CompletionStage<List<String>>> idsOf, java.time.Duration timeout) {
    return idsOf.apply(ENTITY_KEY.name()).thenCompose(ids -> {
      var views = ids.stream().sorted().map(id -> sharding.entityRefFor(ENTITY_KEY, id).<PoolView>ask(GetPool::new, timeout)
          .toCompletableFuture()).toList();
      return java.util.concurrent.CompletableFuture.allOf(views.toArray(java.util.concurrent.CompletableFuture[]::new))
          .thenApply(d -> views.stream().map(java.util.concurrent.CompletableFuture::join).filter(PoolView::exists).toList());
    });
  }

  /** As {@link #all(ClusterSharding, java.util.function.Function, java.time.Duration)}, the ids read from the journal. */
  public static java.util.concurrent.CompletionStage<List<PoolView>> all(ActorSystem<?> system, java.time.Duration timeout) {
    return all(ClusterSharding.get(system), type -> ReplicaReconciler.journalIds(system, type), timeout);
  }

  public static Behavior<Command> create(String poolId) {
    return new PoolEntity(poolId);
  }

  private final String poolId;

  private PoolEntity(String poolId) {
    super(PersistenceId.of(ENTITY_KEY.name(), poolId),
        EntitySupervision.JOURNAL_BACKOFF);
    this.poolId = poolId;
  }

  public sealed interface Command extends CborSerializable {}

  public record CreatePool(PoolSpec spec, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  public record SetEngine(String engine, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  /** Scales the pool: the replica reconciler places the missing replicas or retires the surplus (drained first). */
  public record SetReplicas(int replicas, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  public record AddSlot(SlotPlacement placement, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  public record RemoveSlot(String slotId, String reason, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  public record GetPool(ActorRef<PoolView> replyTo) implements Command {}

  /** Starts moving the pool to {@code rollout.next()}; refused while another rollout is under way. */
  public record StartRollout(Rollout rollout, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  /**
   * Moves the rollout from phase {@code from} to {@code to} (refused as a conflict when it is no longer in
   * {@code from}: two controllers, or an operator and the controller, cannot both move it).
   */
  public record StepRollout(String from, String to, String note, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  /** Ends a {@code rolling} rollout whose old replicas are all gone: the pool's spec becomes the new version. */
  public record PromoteRollout(String note, ActorRef<StatusReply<PoolView>> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record PoolCreated(String poolId, PoolSpec spec, Instant createdAt) implements Event {}

  public record EngineSet(String engine) implements Event {}

  public record ReplicasSet(int replicas) implements Event {}

  public record SlotAdded(SlotPlacement placement) implements Event {}

  public record SlotRemoved(String slotId, String reason) implements Event {}

  public record RolloutStarted(Rollout rollout) implements Event {}

  public record RolloutStepped(String phase, String resumeTo, String note, Instant at) implements Event {}

  public record RolloutPromoted(String note, Instant at) implements Event {}

  /**
   * Where one replica went: node, device, how many of the model's layers placement put on that device
   * ({@code gpuLayers}; 0 on a CPU device, and for placements recorded before offload existed), and
   * whether it runs the version a rollout moves to ({@code next}) rather than the pool's spec, and, in an
   * {@code openai-upstream} pool, the provider of the upstream server it fronts ({@code upstream}; null otherwise).
   */
  public record SlotPlacement(String slotId, String nodeId, String deviceId, int gpuLayers, boolean next, String upstream)
      implements CborSerializable {
    public SlotPlacement(String slotId, String nodeId, String deviceId, int gpuLayers, boolean next) {
      this(slotId, nodeId, deviceId, gpuLayers, next, null);
    }

    public SlotPlacement(String slotId, String nodeId, String deviceId, int gpuLayers) {
      this(slotId, nodeId, deviceId, gpuLayers, false);
    }

    public SlotPlacement(String slotId, String nodeId, String deviceId) {
      this(slotId, nodeId, deviceId, 0);
    }

    SlotPlacement asCurrent() {
      return next ? new SlotPlacement(slotId, nodeId, deviceId, gpuLayers, false, upstream) : this;
    }
  }

  public sealed interface State extends CborSerializable {}

  public record Empty() implements State {}

  /**
   * @param slotsAdded replicas ever added, removed ones included: new slot ids continue from here, so a
   *     lost slot's id is never reused (0 in snapshots taken before it was kept)
   */
  public record Active(String poolId, PoolSpec spec, List<SlotPlacement> slots, Instant createdAt, int slotsAdded, Rollout rollout)
      implements State {
    public Active(String poolId, PoolSpec spec, List<SlotPlacement> slots, Instant createdAt, int slotsAdded) {
      this(poolId, spec, slots, createdAt, slotsAdded, null);
    }

    PoolView view() {
      return new PoolView(true, poolId, spec, slots, slotsAdded, rollout);
    }

    /** The spec of one of this pool's slots, as the node that hosts it must run it: a rollout's new replicas run its version. */
    public SlotSpec slotSpec(SlotPlacement p) {
      PoolSpec s = p.next() && rollout != null ? rollout.next() : spec;
      var upstream = s.upstream(p.upstream());
      int parallel = upstream != null ? upstream.maxSequences() : s.simulated() != null ? s.simulated().maxSequences() : s.parallel();
      return new SlotSpec(p.slotId(), poolId, s.modelId(), s.modelPath(), s.modelDigest(), s.engine(),
          p.nodeId(), p.deviceId(), s.contextPerSequence(), parallel, s.threads(), p.gpuLayers(), s.task(), s.catalogRef(), upstream,
          s.simulated());
    }

    Active with(PoolSpec newSpec, List<SlotPlacement> newSlots, int newSlotsAdded, Rollout newRollout) {
      return new Active(poolId, newSpec, newSlots, createdAt, newSlotsAdded, newRollout);
    }

    boolean rollingOut() {
      return rollout != null && rollout.active();
    }
  }

  /** @param rollout the pool's rollout under way, or its last one (done or rolled back); null if it never had one */
  public record PoolView(boolean exists, String poolId, PoolSpec spec, List<SlotPlacement> slots, int slotsAdded, Rollout rollout)
      implements CborSerializable {
    public PoolView(boolean exists, String poolId, PoolSpec spec, List<SlotPlacement> slots, int slotsAdded) {
      this(exists, poolId, spec, slots, slotsAdded, null);
    }

    public List<SlotSpec> slotSpecs() {
      var a = new Active(poolId, spec, slots, null, slotsAdded, rollout);
      return slots.stream().map(a::slotSpec).toList();
    }

    public boolean rollingOut() {
      return rollout != null && rollout.active();
    }

    /** The id of this pool's {@code n}-th next replica ({@code n} = 0: the next one): {@code <pool>-<index>}, never used before. */
    public String nextSlotId(int n) {
      int next = slotsAdded;
      for (SlotPlacement p : slots) {
        String id = p.slotId();
        if (id.startsWith(poolId + "-")) {
          try {
            next = Math.max(next, Integer.parseInt(id.substring(poolId.length() + 1)) + 1);
          } catch (NumberFormatException e) {
            // an id not of this shape takes no index
          }
        }
      }
      return poolId + "-" + (next + n);
    }
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  static String validate(PoolSpec s) {
    if (s == null) return "spec is required";
    if (s.modelId() == null || s.modelId().isBlank()) return "modelId must not be blank";
    if (s.engine() == null || s.engine().isBlank()) return "engine must not be blank";
    String engineProblem = validateEngine(s);
    if (engineProblem != null) return engineProblem;
    if (s.replicas() < 0 || s.replicas() > 1024) return "replicas must be between 0 and 1024";
    if (s.contextPerSequence() < 16) return "contextPerSequence must be at least 16";
    // An upstream's or the simulator's sequences are bounded by their own rules (validateEngine).
    if (s.loadsModelFile() && (s.parallel() < 1 || s.parallel() > 256)) return "parallel must be between 1 and 256";
    if (s.parallel() < 1) return "parallel must be at least 1";
    if (s.threads() < 1) return "threads must be at least 1";
    return null;
  }

  /**
   * What each kind of engine needs: a model file for the llama.cpp engines; for an upstream pool its
   * servers, one replica each, each provider once, generation only; for a simulated pool its profile.
   */
  private static String validateEngine(PoolSpec s) {
    if (s.loadsModelFile()) {
      if (s.modelPath() == null || s.modelPath().isBlank()) return "modelPath must not be blank";
      if (s.upstreams() != null || s.simulated() != null) return "upstreams and simulated are for engines " + PoolSpec.UPSTREAM_ENGINE
          + " and " + PoolSpec.SIMULATED_ENGINE + " only";
      return null;
    }
    if (s.engine().equals(PoolSpec.SIMULATED_ENGINE)) {
      if (s.simulated() == null) return "a simulated pool needs its profile (simulated)";
      if (s.upstreams() != null) return "a simulated pool has no upstreams";
      String problem = s.simulated().problem();
      return problem == null ? null : "simulated: " + problem;
    }
    var ups = s.upstreams();
    if (s.simulated() != null) return "an upstream pool is not simulated";
    if (ups == null || ups.isEmpty() || ups.size() > io.dalang.engine.upstream.UpstreamEndpoint.MAX_ENDPOINTS) {
      return "upstreams must list 1 to " + io.dalang.engine.upstream.UpstreamEndpoint.MAX_ENDPOINTS + " servers";
    }
    var seen = new java.util.HashSet<String>();
    for (var u : ups) {
      if (u == null || u.provider() == null || u.provider().isBlank()) return "each upstream names its provider";
      if (!seen.add(u.provider())) return "upstream provider " + u.provider() + " is listed twice";
      if (u.model() == null || u.model().isBlank()) return "upstream " + u.provider() + " needs the model name it serves";
      if (u.maxSequences() < 1 || u.maxSequences() > io.dalang.engine.upstream.UpstreamEndpoint.MAX_SEQUENCES) {
        return "upstream " + u.provider() + ": max_sequences must be 1 to " + io.dalang.engine.upstream.UpstreamEndpoint.MAX_SEQUENCES;
      }
    }
    if (s.replicas() != ups.size()) return "an upstream pool has one replica per upstream (" + ups.size() + "), not " + s.replicas();
    if (!s.task().equals(io.dalang.protocols.generation.RunTask.GENERATE.wire())) return "an upstream pool serves generation only";
    return null;
  }

  /** Why a pool of {@code from} cannot move to engine {@code to}, or null: only between the llama.cpp engines. */
  static String engineChange(PoolSpec from, String to) {
    if (from.loadsModelFile() && PoolSpec.loadsModelFile(to)) return null;
    return "a pool of engine " + from.engine() + " cannot move to engine " + to + "; create another pool";
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Empty.class)
        .onCommand(CreatePool.class, (s, c) -> {
          String problem = validate(c.spec());
          if (problem != null) return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(problem)));
          return Effect().persist(new PoolCreated(poolId, c.spec(), Instant.now()))
              .thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
        })
        .onCommand(SetEngine.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(SetReplicas.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(AddSlot.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(RemoveSlot.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(StartRollout.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(StepRollout.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(PromoteRollout.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("pool " + poolId + " does not exist"))))
        .onCommand(GetPool.class, (s, c) -> Effect().reply(c.replyTo(), new PoolView(false, poolId, null, List.of(), 0)));
    b.forStateType(Active.class)
        .onCommand(CreatePool.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " already exists"))))
        .onCommand(SetEngine.class, (s, c) -> s.spec().engine().equals(c.engine())
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
            : engineChange(s.spec(), c.engine()) != null
            ? Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(engineChange(s.spec(), c.engine()))))
            : s.rollingOut()
            ? Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " is rolling out to "
                + s.rollout().target() + "; change its engine when the rollout has ended")))
            : Effect().persist(new EngineSet(c.engine())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(SetReplicas.class, (s, c) -> {
          String problem = validate(s.spec().withReplicas(c.replicas()));
          if (problem != null) return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(problem)));
          if (s.spec().replicas() == c.replicas()) return Effect().reply(c.replyTo(), StatusReply.success(s.view()));
          return Effect().persist(new ReplicasSet(c.replicas())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
        })
        .onCommand(AddSlot.class, (s, c) -> s.slots().stream().anyMatch(p -> p.slotId().equals(c.placement().slotId()))
            ? Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("slot " + c.placement().slotId() + " is already in pool " + poolId)))
            : Effect().persist(new SlotAdded(c.placement())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(RemoveSlot.class, (s, c) -> s.slots().stream().noneMatch(p -> p.slotId().equals(c.slotId()))
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
            : Effect().persist(new SlotRemoved(c.slotId(), c.reason())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(StartRollout.class, this::onStartRollout)
        .onCommand(StepRollout.class, this::onStepRollout)
        .onCommand(PromoteRollout.class, this::onPromote)
        .onCommand(GetPool.class, (s, c) -> Effect().reply(c.replyTo(), s.view()));
    return b.build();
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onStartRollout(Active s, StartRollout c) {
    Rollout r = c.rollout();
    if (s.rollingOut()) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " is already rolling out to "
          + s.rollout().target() + " (" + s.rollout().phase() + "); pause, abort or wait for it first")));
    }
    String problem = r == null || r.next() == null ? "a rollout needs the version to move to" : validate(r.next());
    if (problem == null && r.next().modelDigest() != null && r.next().modelDigest().equals(s.spec().modelDigest())) {
      problem = "pool " + poolId + " already serves " + r.target() + " (the same blob)";
    }
    boolean split = r.strategy().equals(Rollout.SPLIT_STRATEGY);
    if (problem == null && !r.phase().equals(split ? Rollout.SPLIT : Rollout.CANARY)) problem = "a rollout starts in phase canary, a split in split";
    if (problem == null && split && (r.splitPercent() < 1 || r.splitPercent() > 99)) problem = "a split sends 1 to 99 percent to the new version";
    if (problem != null) return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(problem)));
    // The new version takes everything but the model from the pool as it is now (an engine or a replica
    // count changed after the request read the pool is kept).
    var next = s.spec().withModel(r.next().modelPath(), r.next().modelDigest(), r.next().catalogRef());
    var started = new Rollout(next, r.strategy(), r.maxSurge(), r.maxUnavailable(), r.gate(), r.phase(), r.resumeTo(), r.startedAt(),
        r.updatedAt(), r.note(), r.splitPercent());
    return Effect().persist(new RolloutStarted(started)).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
  }

  /** The steps a rollout may take; anything else is refused. */
  static boolean allowed(String from, String to) {
    return switch (to) {
      case Rollout.ROLLING -> from.equals(Rollout.CANARY) || from.equals(Rollout.SPLIT);
      case Rollout.PAUSED -> from.equals(Rollout.CANARY) || from.equals(Rollout.ROLLING);
      case Rollout.ROLLING_BACK -> from.equals(Rollout.CANARY) || from.equals(Rollout.ROLLING) || from.equals(Rollout.PAUSED)
          || from.equals(Rollout.SPLIT);
      case Rollout.ROLLED_BACK -> from.equals(Rollout.ROLLING_BACK);
      default -> false;
    };
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onStepRollout(Active s, StepRollout c) {
    if (!s.rollingOut()) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " has no rollout under way")));
    }
    Rollout r = s.rollout();
    boolean resume = r.phase().equals(Rollout.PAUSED) && c.from().equals(Rollout.PAUSED) && c.to().equals(r.resumeTo());
    if (!r.phase().equals(c.from()) || (!resume && !allowed(c.from(), c.to()))) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("the rollout of pool " + poolId + " is " + r.phase()
          + "; it cannot go from " + c.from() + " to " + c.to())));
    }
    if (c.to().equals(Rollout.ROLLED_BACK) && s.slots().stream().anyMatch(SlotPlacement::next)) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " still has replicas of " + r.target())));
    }
    String resumeTo = c.to().equals(Rollout.PAUSED) ? r.phase() : null;
    return Effect().persist(new RolloutStepped(c.to(), resumeTo, c.note(), Instant.now()))
        .thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onPromote(Active s, PromoteRollout c) {
    if (!s.rollingOut() || !s.rollout().phase().equals(Rollout.ROLLING)) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " has no rollout in phase rolling")));
    }
    if (s.slots().stream().anyMatch(p -> !p.next())) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " still has replicas of the old version")));
    }
    return Effect().persist(new RolloutPromoted(c.note(), Instant.now())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Empty.class).onEvent(PoolCreated.class, (s, e) -> new Active(e.poolId(), e.spec(), List.of(), e.createdAt(), 0));
    b.forStateType(Active.class)
        .onEvent(EngineSet.class, (s, e) -> s.with(s.spec().withEngine(e.engine()), s.slots(), s.slotsAdded(), s.rollout()))
        .onEvent(ReplicasSet.class, (s, e) -> s.with(s.spec().withReplicas(e.replicas()), s.slots(), s.slotsAdded(), s.rollout()))
        .onEvent(SlotAdded.class, (s, e) -> {
          var slots = new ArrayList<>(s.slots());
          slots.add(e.placement());
          return s.with(s.spec(), List.copyOf(slots), Math.max(s.slotsAdded(), s.slots().size()) + 1, s.rollout());
        })
        .onEvent(SlotRemoved.class, (s, e) -> s.with(s.spec(),
            s.slots().stream().filter(p -> !p.slotId().equals(e.slotId())).toList(), s.slotsAdded(), s.rollout()))
        .onEvent(RolloutStarted.class, (s, e) -> s.with(s.spec(), s.slots(), s.slotsAdded(), e.rollout()))
        .onEvent(RolloutStepped.class, (s, e) -> s.with(s.spec(), s.slots(), s.slotsAdded(),
            s.rollout().step(e.phase(), e.resumeTo(), e.at(), e.note())))
        // The new version becomes the pool's: its replica count stays the pool's, every replica is now current.
        .onEvent(RolloutPromoted.class, (s, e) -> s.with(s.rollout().next().withReplicas(s.spec().replicas()),
            s.slots().stream().map(SlotPlacement::asCurrent).toList(), s.slotsAdded(), s.rollout().step(Rollout.DONE, null, e.at(), e.note())));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
