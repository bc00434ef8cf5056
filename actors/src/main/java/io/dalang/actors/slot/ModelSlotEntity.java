package io.dalang.actors.slot;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.Refusal;
import java.time.Instant;
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
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One model loaded on one device of one node. Lifecycle:
 * {@code Provisioning → Loading → Ready → Draining → Stopped}, and {@code Failed} from any live state;
 * a restarted engine goes back to {@code Loading}. {@code Lost} (its node left the cluster or was
 * downed while it was not stopped) is final: the pool places a new replica under a new slot id, and nothing revives this one. Ready records what actually serves: engine version
 * and digest, model digest, device mask and parallel capacity.
 *
 * <p>Every state-changing command replies the new {@link SlotView} or an error for a transition the
 * lifecycle forbids (nothing is persisted then). {@link ReportLoad} changes only the live
 * {@code slotsFree} figure and is not journaled: it changes with every request. {@link GetSlot}
 * replies the view.
 */
public final class ModelSlotEntity
    extends EventSourcedBehaviorWithEnforcedReplies<ModelSlotEntity.Command, ModelSlotEntity.Event, ModelSlotEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "ModelSlot");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())).withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String slotId) {
    return new ModelSlotEntity(slotId);
  }

  private final String slotId;
  /** Live, not journaled: free parallel sequences as last reported by the engine actor. */
  private int slotsFree;

  private ModelSlotEntity(String slotId) {
    super(PersistenceId.of(ENTITY_KEY.name(), slotId),
        EntitySupervision.JOURNAL_BACKOFF);
    this.slotId = slotId;
  }

  // Protocol

  public sealed interface Command extends CborSerializable {}

  public record Provision(SlotSpec spec, ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record BeginLoading(SlotSpec spec, int attempt, ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record MarkReady(EngineRecord engine, ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record MarkFailed(String reason, ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record Drain(ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record MarkStopped(ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record MarkLost(String reason, ActorRef<StatusReply<SlotView>> replyTo) implements Command {}

  public record ReportLoad(int slotsFree) implements Command {}

  public record GetSlot(ActorRef<SlotView> replyTo) implements Command {}

  /** What actually serves a Ready slot. {@code deviceMask} lists the device ids the engine uses. */
  public record EngineRecord(
      String engineKind, String engineVersion, String engineDigest, String modelDigest, String deviceMask, int slotsTotal)
      implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  public record SlotProvisioned(SlotSpec spec, Instant at) implements Event {}

  public record LoadingStarted(SlotSpec spec, int attempt, Instant at) implements Event {}

  public record SlotReady(EngineRecord engine, Instant at) implements Event {}

  public record SlotFailed(String reason, Instant at) implements Event {}

  public record DrainStarted(Instant at) implements Event {}

  public record SlotStopped(Instant at) implements Event {}

  public record SlotLost(String reason, Instant at) implements Event {}

  public sealed interface State extends CborSerializable {
    default String name() {
      return getClass().getSimpleName();
    }
  }

  public record Unprovisioned() implements State {}

  public record Provisioning(SlotSpec spec) implements State {}

  public record Loading(SlotSpec spec, int attempt) implements State {}

  public record Ready(SlotSpec spec, EngineRecord engine, Instant since) implements State {}

  public record Draining(SlotSpec spec, EngineRecord engine) implements State {}

  public record Stopped(SlotSpec spec) implements State {}

  public record Failed(SlotSpec spec, String reason, Instant at) implements State {}

  public record Lost(SlotSpec spec, String reason, Instant at) implements State {}

  /** What callers see of a slot; {@code state} is the lifecycle state's name. */
  /** @param attempt the engine start under way while {@code Loading} (1 the first, more after restarts); 0 in other states */
  public record SlotView(String slotId, String state, SlotSpec spec, EngineRecord engine, int slotsFree, String detail, int attempt)
      implements CborSerializable {}

  @Override
  public State emptyState() {
    return new Unprovisioned();
  }

  SlotView view(State s) {
    SlotSpec spec = specOf(s);
    EngineRecord engine = s instanceof Ready r ? r.engine() : s instanceof Draining d ? d.engine() : null;
    String detail = s instanceof Failed f ? f.reason() : s instanceof Lost l ? l.reason() : null;
    int free = s instanceof Ready ? slotsFree : 0;
    return new SlotView(slotId, s.name(), spec, engine, free, detail, s instanceof Loading l ? l.attempt() : 0);
  }

  static SlotSpec specOf(State s) {
    if (s instanceof Provisioning p) return p.spec();
    if (s instanceof Loading l) return l.spec();
    if (s instanceof Ready r) return r.spec();
    if (s instanceof Draining d) return d.spec();
    if (s instanceof Stopped st) return st.spec();
    if (s instanceof Failed f) return f.spec();
    if (s instanceof Lost l) return l.spec();
    return null;
  }

  private ReplyEffect<Event, State> reject(ActorRef<StatusReply<SlotView>> to, State s, String what) {
    return Effect().reply(to, StatusReply.error(Refusal.conflict("slot " + slotId + " cannot " + what + " while " + s.name())));
  }

  private ReplyEffect<Event, State> persist(Event e, ActorRef<StatusReply<SlotView>> to) {
    return Effect().persist(e).thenReply(to, st -> StatusReply.success(view(st)));
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Unprovisioned.class)
        .onCommand(Provision.class, (s, c) -> persist(new SlotProvisioned(c.spec(), Instant.now()), c.replyTo()))
        .onCommand(BeginLoading.class, (s, c) -> reject(c.replyTo(), s, "load"))
        .onCommand(MarkReady.class, (s, c) -> reject(c.replyTo(), s, "become ready"))
        .onCommand(MarkFailed.class, (s, c) -> reject(c.replyTo(), s, "fail"))
        .onCommand(Drain.class, (s, c) -> reject(c.replyTo(), s, "drain"))
        .onCommand(MarkStopped.class, (s, c) -> reject(c.replyTo(), s, "stop"))
        .onCommand(MarkLost.class, (s, c) -> reject(c.replyTo(), s, "be lost"));
    // Final: a late message from the lost node's engine changes nothing.
    b.forStateType(Lost.class)
        .onCommand(MarkLost.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(BeginLoading.class, (s, c) -> reject(c.replyTo(), s, "load"))
        .onCommand(MarkFailed.class, (s, c) -> reject(c.replyTo(), s, "fail"))
        .onCommand(MarkStopped.class, (s, c) -> reject(c.replyTo(), s, "stop"))
        .onCommand(ReportLoad.class, (s, c) -> Effect().noReply());
    b.forStateType(Loading.class)
        .onCommand(MarkReady.class, (s, c) -> persist(new SlotReady(c.engine(), Instant.now()), c.replyTo()));
    b.forStateType(Ready.class)
        .onCommand(MarkReady.class, (s, c) -> c.engine().equals(s.engine())
            ? Effect().reply(c.replyTo(), StatusReply.success(view(s)))
            : persist(new SlotReady(c.engine(), Instant.now()), c.replyTo()))
        .onCommand(Drain.class, (s, c) -> persist(new DrainStarted(Instant.now()), c.replyTo()));
    b.forStateType(Draining.class)
        .onCommand(Drain.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))));
    b.forStateType(Stopped.class)
        .onCommand(MarkStopped.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        // Drained before its node left: it stopped, it was not lost.
        .onCommand(MarkLost.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))));
    // Shared by every provisioned state; a state-specific handler above wins.
    b.forAnyState()
        .onCommand(Provision.class, (s, c) -> c.spec().equals(specOf(s))
            ? Effect().reply(c.replyTo(), StatusReply.success(view(s)))
            : reject(c.replyTo(), s, "be provisioned again with another spec"))
        .onCommand(BeginLoading.class, (s, c) -> s instanceof Draining
            ? reject(c.replyTo(), s, "load")
            : persist(new LoadingStarted(c.spec(), c.attempt(), Instant.now()), c.replyTo()))
        .onCommand(MarkReady.class, (s, c) -> reject(c.replyTo(), s, "become ready"))
        .onCommand(MarkFailed.class, (s, c) -> s instanceof Stopped
            ? reject(c.replyTo(), s, "fail")
            : persist(new SlotFailed(c.reason(), Instant.now()), c.replyTo()))
        .onCommand(Drain.class, (s, c) -> reject(c.replyTo(), s, "drain"))
        .onCommand(MarkStopped.class, (s, c) -> persist(new SlotStopped(Instant.now()), c.replyTo()))
        .onCommand(MarkLost.class, (s, c) -> persist(new SlotLost(c.reason(), Instant.now()), c.replyTo()))
        .onCommand(ReportLoad.class, (s, c) -> {
          slotsFree = c.slotsFree();
          return Effect().noReply();
        })
        .onCommand(GetSlot.class, (s, c) -> Effect().reply(c.replyTo(), view(s)));
    return b.build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forAnyState()
        .onEvent(SlotProvisioned.class, (s, e) -> new Provisioning(e.spec()))
        .onEvent(LoadingStarted.class, (s, e) -> new Loading(e.spec(), e.attempt()))
        .onEvent(SlotReady.class, (s, e) -> new Ready(specOf(s), e.engine(), e.at()))
        .onEvent(SlotFailed.class, (s, e) -> new Failed(specOf(s), e.reason(), e.at()))
        .onEvent(DrainStarted.class, (s, e) -> new Draining(specOf(s), ((Ready) s).engine()))
        .onEvent(SlotStopped.class, (s, e) -> new Stopped(specOf(s)))
        .onEvent(SlotLost.class, (s, e) -> new Lost(specOf(s), e.reason(), e.at()));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
