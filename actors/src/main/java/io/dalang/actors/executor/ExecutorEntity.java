package io.dalang.actors.executor;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.Refusal;
import io.dalang.protocols.node.Device;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * The executor of one cluster node: its devices, its address, its health and the model slots assigned
 * to it. A node agent registers it on every start and gets back the slots it must run.
 *
 * <p>{@link RegisterExecutor} replies the view with the assigned slots; {@link AssignSlot} (upsert by
 * slot id) replies the updated view, or an error if the node never registered or lacks the device;
 * {@link UnassignSlot} (the slot was lost with the node, or moved) replies the updated view, also when
 * the slot was not assigned; {@link ReportHealth} persists only a change; {@link GetExecutor} replies the view.
 *
 * <p>{@link ReportDevices} brings fresh free-memory readings of the node's devices and the slots whose
 * engines had loaded when they were taken; it persists only a change that matters (a device's free
 * memory moved by more than {@link #MEMORY_CHANGE_MIB}, or the loaded slots changed), so placement
 * works from the latest figures without a journal entry per reading.
 */
public final class ExecutorEntity
    extends EventSourcedBehaviorWithEnforcedReplies<ExecutorEntity.Command, ExecutorEntity.Event, ExecutorEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Executor");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())).withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String nodeId) {
    return new ExecutorEntity(nodeId);
  }

  private final String nodeId;

  private ExecutorEntity(String nodeId) {
    super(PersistenceId.of(ENTITY_KEY.name(), nodeId),
        EntitySupervision.JOURNAL_BACKOFF);
    this.nodeId = nodeId;
  }

  public sealed interface Command extends CborSerializable {}

  public record RegisterExecutor(String address, List<Device> devices, ActorRef<StatusReply<ExecutorView>> replyTo) implements Command {}

  public record AssignSlot(SlotSpec spec, ActorRef<StatusReply<ExecutorView>> replyTo) implements Command {}

  public record UnassignSlot(String slotId, ActorRef<StatusReply<ExecutorView>> replyTo) implements Command {}

  public record ReportHealth(boolean healthy, String detail) implements Command {}

  public record GetExecutor(ActorRef<ExecutorView> replyTo) implements Command {}

  /** The node's devices as measured now, and the slots whose engines were loaded at the time. */
  public record ReportDevices(List<Device> devices, java.util.Set<String> loadedSlots) implements Command {}

  /** A device reading differing by less than this from the last one persisted is not persisted. */
  public static final long MEMORY_CHANGE_MIB = 64;

  public sealed interface Event extends CborSerializable {}

  public record ExecutorRegistered(String nodeId, String address, List<Device> devices, Instant at) implements Event {}

  public record SlotAssigned(SlotSpec spec) implements Event {}

  public record SlotUnassigned(String slotId) implements Event {}

  public record HealthChanged(boolean healthy, String detail, Instant at) implements Event {}

  public record DevicesMeasured(List<Device> devices, java.util.Set<String> loadedSlots, Instant at) implements Event {}

  public sealed interface State extends CborSerializable {}

  public record Unregistered() implements State {}

  public record Registered(
      String nodeId, String address, List<Device> devices, Map<String, SlotSpec> slots, boolean healthy,
      String healthDetail, Instant registeredAt, int registrations, java.util.Set<String> loadedSlots) implements State {

    public Registered {
      loadedSlots = loadedSlots == null ? java.util.Set.of() : java.util.Set.copyOf(loadedSlots);
    }

    ExecutorView view() {
      return new ExecutorView(true, nodeId, address, devices,
          slots.values().stream().sorted(java.util.Comparator.comparing(SlotSpec::slotId)).toList(), healthy, healthDetail, registrations,
          loadedSlots);
    }

    Registered withSlots(Map<String, SlotSpec> newSlots) {
      return new Registered(nodeId, address, devices, newSlots, healthy, healthDetail, registeredAt, registrations, loadedSlots);
    }
  }

  /**
   * @param loadedSlots the slots whose engines had loaded when the devices' free memory was last read:
   *     on a device whose reading is live their memory is already in it
   */
  public record ExecutorView(
      boolean registered, String nodeId, String address, List<Device> devices, List<SlotSpec> slots, boolean healthy,
      String healthDetail, int registrations, java.util.Set<String> loadedSlots) implements CborSerializable {

    public ExecutorView {
      loadedSlots = loadedSlots == null ? java.util.Set.of() : java.util.Set.copyOf(loadedSlots);
    }

    public ExecutorView(boolean registered, String nodeId, String address, List<Device> devices, List<SlotSpec> slots, boolean healthy,
        String healthDetail, int registrations) {
      this(registered, nodeId, address, devices, slots, healthy, healthDetail, registrations, java.util.Set.of());
    }
  }

  @Override
  public State emptyState() {
    return new Unregistered();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Unregistered.class)
        .onCommand(RegisterExecutor.class, this::register)
        .onCommand(AssignSlot.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("node " + nodeId + " has never registered"))))
        .onCommand(UnassignSlot.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("node " + nodeId + " has never registered"))))
        .onCommand(ReportHealth.class, (s, c) -> Effect().noReply())
        .onCommand(ReportDevices.class, (s, c) -> Effect().noReply())
        .onCommand(GetExecutor.class, (s, c) -> Effect().reply(c.replyTo(),
            new ExecutorView(false, nodeId, null, List.of(), List.of(), false, "never registered", 0)));
    b.forStateType(Registered.class)
        .onCommand(RegisterExecutor.class, this::register)
        .onCommand(AssignSlot.class, (s, c) -> {
          if (s.devices().stream().noneMatch(d -> d.id().equals(c.spec().deviceId()))) {
            return Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("node " + nodeId + " has no device " + c.spec().deviceId())));
          }
          if (c.spec().equals(s.slots().get(c.spec().slotId()))) return Effect().reply(c.replyTo(), StatusReply.success(s.view()));
          return Effect().persist(new SlotAssigned(c.spec())).thenReply(c.replyTo(), st -> StatusReply.success(((Registered) st).view()));
        })
        .onCommand(UnassignSlot.class, (s, c) -> !s.slots().containsKey(c.slotId())
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
            : Effect().persist(new SlotUnassigned(c.slotId())).thenReply(c.replyTo(), st -> StatusReply.success(((Registered) st).view())))
        .onCommand(ReportHealth.class, (s, c) -> s.healthy() == c.healthy()
            ? Effect().noReply()
            : Effect().persist(new HealthChanged(c.healthy(), c.detail(), Instant.now())).thenNoReply())
        .onCommand(ReportDevices.class, (s, c) -> matters(s, c)
            ? Effect().persist(new DevicesMeasured(List.copyOf(c.devices()), java.util.Set.copyOf(c.loadedSlots()), Instant.now())).thenNoReply()
            : Effect().noReply())
        .onCommand(GetExecutor.class, (s, c) -> Effect().reply(c.replyTo(), s.view()));
    return b.build();
  }

  /** Whether a device report differs from the state enough to persist: other devices, other loaded slots, or memory moved. */
  static boolean matters(Registered s, ReportDevices c) {
    if (!s.loadedSlots().equals(java.util.Set.copyOf(c.loadedSlots())) || s.devices().size() != c.devices().size()) return true;
    for (int i = 0; i < s.devices().size(); i++) {
      Device a = s.devices().get(i);
      Device b = c.devices().get(i);
      if (!a.id().equals(b.id()) || Math.abs(a.memoryFreeMib() - b.memoryFreeMib()) > MEMORY_CHANGE_MIB) return true;
    }
    return false;
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> register(State s, RegisterExecutor c) {
    return Effect().persist(new ExecutorRegistered(nodeId, c.address(), List.copyOf(c.devices()), Instant.now()))
        .thenReply(c.replyTo(), st -> StatusReply.success(((Registered) st).view()));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Unregistered.class).onEvent(ExecutorRegistered.class, (s, e) ->
        new Registered(e.nodeId(), e.address(), e.devices(), Map.of(), true, "registered", e.at(), 1, java.util.Set.of()));
    b.forStateType(Registered.class)
        .onEvent(ExecutorRegistered.class, (s, e) ->
            new Registered(s.nodeId(), e.address(), e.devices(), s.slots(), true, "registered", e.at(), s.registrations() + 1,
                java.util.Set.of()))
        .onEvent(SlotAssigned.class, (s, e) -> {
          var slots = new TreeMap<>(s.slots());
          slots.put(e.spec().slotId(), e.spec());
          return s.withSlots(Map.copyOf(slots));
        })
        .onEvent(SlotUnassigned.class, (s, e) -> {
          var slots = new TreeMap<>(s.slots());
          slots.remove(e.slotId());
          return s.withSlots(Map.copyOf(slots));
        })
        .onEvent(HealthChanged.class, (s, e) -> new Registered(s.nodeId(), s.address(), s.devices(), s.slots(), e.healthy(),
            e.detail(), s.registeredAt(), s.registrations(), s.loadedSlots()))
        .onEvent(DevicesMeasured.class, (s, e) -> new Registered(s.nodeId(), s.address(), e.devices(), s.slots(), s.healthy(),
            s.healthDetail(), s.registeredAt(), s.registrations(), e.loadedSlots()));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
