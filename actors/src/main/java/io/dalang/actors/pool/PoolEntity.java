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

  public sealed interface Event extends CborSerializable {}

  public record PoolCreated(String poolId, PoolSpec spec, Instant createdAt) implements Event {}

  public record EngineSet(String engine) implements Event {}

  public record ReplicasSet(int replicas) implements Event {}

  public record SlotAdded(SlotPlacement placement) implements Event {}

  public record SlotRemoved(String slotId, String reason) implements Event {}

  /** Where one replica of the pool runs. */
  /**
   * Where one replica went: node, device, and how many of the model's layers placement put on that
   * device ({@code gpuLayers}; 0 on a CPU device, and for placements recorded before offload existed).
   */
  public record SlotPlacement(String slotId, String nodeId, String deviceId, int gpuLayers) implements CborSerializable {
    public SlotPlacement(String slotId, String nodeId, String deviceId) {
      this(slotId, nodeId, deviceId, 0);
    }
  }

  public sealed interface State extends CborSerializable {}

  public record Empty() implements State {}

  /**
   * @param slotsAdded replicas ever added, removed ones included: new slot ids continue from here, so a
   *     lost slot's id is never reused (0 in snapshots taken before it was kept)
   */
  public record Active(String poolId, PoolSpec spec, List<SlotPlacement> slots, Instant createdAt, int slotsAdded) implements State {
    PoolView view() {
      return new PoolView(true, poolId, spec, slots, slotsAdded);
    }

    /** The spec of one of this pool's slots, as the node that hosts it must run it. */
    public SlotSpec slotSpec(SlotPlacement p) {
      return new SlotSpec(p.slotId(), poolId, spec.modelId(), spec.modelPath(), spec.modelDigest(), spec.engine(),
          p.nodeId(), p.deviceId(), spec.contextPerSequence(), spec.parallel(), spec.threads(), p.gpuLayers(), spec.task(), spec.catalogRef());
    }
  }

  public record PoolView(boolean exists, String poolId, PoolSpec spec, List<SlotPlacement> slots, int slotsAdded)
      implements CborSerializable {
    public List<SlotSpec> slotSpecs() {
      var a = new Active(poolId, spec, slots, null, slotsAdded);
      return slots.stream().map(a::slotSpec).toList();
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
    if (s.modelPath() == null || s.modelPath().isBlank()) return "modelPath must not be blank";
    if (s.engine() == null || s.engine().isBlank()) return "engine must not be blank";
    if (s.replicas() < 0 || s.replicas() > 1024) return "replicas must be between 0 and 1024";
    if (s.contextPerSequence() < 16) return "contextPerSequence must be at least 16";
    if (s.parallel() < 1 || s.parallel() > 256) return "parallel must be between 1 and 256";
    if (s.threads() < 1) return "threads must be at least 1";
    return null;
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
        .onCommand(GetPool.class, (s, c) -> Effect().reply(c.replyTo(), new PoolView(false, poolId, null, List.of(), 0)));
    b.forStateType(Active.class)
        .onCommand(CreatePool.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("pool " + poolId + " already exists"))))
        .onCommand(SetEngine.class, (s, c) -> s.spec().engine().equals(c.engine())
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
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
        .onCommand(GetPool.class, (s, c) -> Effect().reply(c.replyTo(), s.view()));
    return b.build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Empty.class).onEvent(PoolCreated.class, (s, e) -> new Active(e.poolId(), e.spec(), List.of(), e.createdAt(), 0));
    b.forStateType(Active.class)
        .onEvent(EngineSet.class, (s, e) -> new Active(s.poolId(), s.spec().withEngine(e.engine()), s.slots(), s.createdAt(), s.slotsAdded()))
        .onEvent(ReplicasSet.class, (s, e) -> new Active(s.poolId(), s.spec().withReplicas(e.replicas()), s.slots(), s.createdAt(), s.slotsAdded()))
        .onEvent(SlotAdded.class, (s, e) -> {
          var slots = new ArrayList<>(s.slots());
          slots.add(e.placement());
          return new Active(s.poolId(), s.spec(), List.copyOf(slots), s.createdAt(), Math.max(s.slotsAdded(), s.slots().size()) + 1);
        })
        .onEvent(SlotRemoved.class, (s, e) -> new Active(s.poolId(), s.spec(),
            s.slots().stream().filter(p -> !p.slotId().equals(e.slotId())).toList(), s.createdAt(), s.slotsAdded()));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
