package io.dalang.actors.node;

import io.dalang.actors.engine.EngineActor;
import io.dalang.actors.engine.EngineFactory;
import io.dalang.actors.engine.EngineSettings;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.node.Device;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;

/**
 * The root of a node's supervision tree. On start it registers this node's executor (devices and
 * address) and starts one supervised {@link EngineActor} per slot assigned to the node; afterwards
 * {@link HostSlot} adds or replaces a slot. An engine actor that exhausts its restarts stops; the agent
 * then marks the slot Failed for good.
 *
 * <p>{@link AwaitRegistered} replies once the executor is registered; {@link GetSlots} replies the
 * specs this node runs.
 */
public final class NodeAgent {

  public interface Command extends CborSerializable {}

  public record HostSlot(SlotSpec spec) implements Command {}

  public record AwaitRegistered(ActorRef<Registered> replyTo) implements Command {}

  public record Registered(String nodeId, List<Device> devices) implements CborSerializable {}

  public record GetSlots(ActorRef<List<SlotSpec>> replyTo) implements Command {}

  /** Stops every engine of this node, then the agent; replies once they are stopped. */
  public record Shutdown(ActorRef<org.apache.pekko.Done> replyTo) implements Command {}

  private record RegistrationResult(StatusReply<ExecutorEntity.ExecutorView> reply) implements Command {}

  private record EngineStopped(String slotId, SlotSpec spec) implements Command {}

  private static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(10);

  public static Behavior<Command> create(String nodeId, List<Device> devices, EngineFactory factory, EngineSettings settings,
      ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics) {
    return Behaviors.setup(ctx -> new NodeAgent(ctx, nodeId, devices, factory, settings, topic, metrics).registering());
  }

  private final ActorContext<Command> ctx;
  private final String nodeId;
  private final List<Device> devices;
  private final EngineFactory factory;
  private final EngineSettings settings;
  private final ActorRef<Topic.Command<SlotStatus>> topic;
  private final MeterRegistry metrics;
  private final Map<String, SlotSpec> hosted = new HashMap<>();
  private final Map<String, ActorRef<EngineActor.Command>> engines = new HashMap<>();
  private final Map<String, AtomicInteger> restartCounters = new HashMap<>();
  private final List<ActorRef<Registered>> waiters = new ArrayList<>();

  private NodeAgent(ActorContext<Command> ctx, String nodeId, List<Device> devices, EngineFactory factory,
      EngineSettings settings, ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics) {
    this.ctx = ctx;
    this.nodeId = nodeId;
    this.devices = devices;
    this.factory = factory;
    this.settings = settings;
    this.topic = topic;
    this.metrics = metrics;
  }

  private Behavior<Command> registering() {
    String address = Cluster.get(ctx.getSystem()).selfMember().address().toString();
    var executor = ClusterSharding.get(ctx.getSystem()).entityRefFor(ExecutorEntity.ENTITY_KEY, nodeId);
    ctx.askWithStatus(ExecutorEntity.ExecutorView.class, executor, REGISTER_TIMEOUT,
        replyTo -> new ExecutorEntity.RegisterExecutor(address, devices, replyTo),
        (view, err) -> new RegistrationResult(err != null ? StatusReply.error(err) : StatusReply.success(view)));
    ctx.getLog().info("node {}: registering executor with {} device(s): {}", nodeId, devices.size(),
        devices.stream().map(d -> d.id() + " (" + d.name() + ", " + d.memoryTotalMib() + " MiB)").toList());
    return Behaviors.receive(Command.class)
        .onMessage(RegistrationResult.class, r -> {
          if (r.reply().isError()) {
            ctx.getLog().warn("node {}: executor registration failed ({}); retrying", nodeId, r.reply().getError().getMessage());
            return registering();
          }
          var view = r.reply().getValue();
          ctx.getLog().info("node {}: executor registered (registration #{}); {} slot(s) assigned", nodeId,
              view.registrations(), view.slots().size());
          var pending = new java.util.ArrayList<>(hosted.values());
          hosted.clear();
          view.slots().forEach(this::host);
          // Slots handed over while registering and not (yet) in the executor's view start now too.
          pending.stream().filter(s -> !engines.containsKey(s.slotId())).forEach(this::host);
          waiters.forEach(w -> w.tell(new Registered(nodeId, devices)));
          waiters.clear();
          return running();
        })
        .onMessage(AwaitRegistered.class, m -> {
          waiters.add(m.replyTo());
          return Behaviors.same();
        })
        .onMessage(HostSlot.class, m -> {
          hosted.put(m.spec().slotId(), m.spec()); // started once registered
          return Behaviors.same();
        })
        .onMessage(GetSlots.class, m -> {
          m.replyTo().tell(List.copyOf(hosted.values()));
          return Behaviors.same();
        })
        .onMessage(Shutdown.class, this::onShutdown)
        .build();
  }

  private Behavior<Command> onShutdown(Shutdown m) {
    ctx.getLog().info("node {}: stopping {} engine(s)", nodeId, engines.size());
    // Children stop with their parent; each engine actor closes its engine in PostStop.
    m.replyTo().tell(org.apache.pekko.Done.getInstance());
    return Behaviors.stopped();
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(HostSlot.class, m -> {
          host(m.spec());
          return Behaviors.same();
        })
        .onMessage(AwaitRegistered.class, m -> {
          m.replyTo().tell(new Registered(nodeId, devices));
          return Behaviors.same();
        })
        .onMessage(GetSlots.class, m -> {
          m.replyTo().tell(List.copyOf(hosted.values()));
          return Behaviors.same();
        })
        .onMessage(EngineStopped.class, this::onEngineStopped)
        .onMessage(Shutdown.class, this::onShutdown)
        .onSignal(Terminated.class, t -> Behaviors.same())
        .build();
  }

  private void host(SlotSpec spec) {
    SlotSpec current = hosted.get(spec.slotId());
    ActorRef<EngineActor.Command> existing = engines.get(spec.slotId());
    if (existing != null && spec.equals(current)) return;
    if (existing != null) {
      ctx.getLog().info("slot {}: spec changed; replacing its engine", spec.slotId());
      ctx.unwatch(existing);
      ctx.stop(existing);
    }
    hosted.put(spec.slotId(), spec);
    var restarts = restartCounters.computeIfAbsent(spec.slotId(), k -> new AtomicInteger());
    // A fresh name per incarnation: the old child may still be stopping.
    String name = "engine-" + spec.slotId() + "-" + restarts.get() + "-" + System.nanoTime() % 100000;
    Device device = devices.stream().filter(d -> d.id().equals(spec.deviceId())).findFirst()
        .orElseGet(() -> new Device(spec.deviceId(), Device.CPU, 0, "unknown device", 0, 0, ""));
    var ref = ctx.spawn(EngineActor.supervised(spec, device, factory, settings, topic, metrics, restarts), name);
    ctx.watchWith(ref, new EngineStopped(spec.slotId(), spec));
    engines.put(spec.slotId(), ref);
  }

  private Behavior<Command> onEngineStopped(EngineStopped m) {
    engines.remove(m.slotId());
    String reason = "engine gave up after " + restartCounters.get(m.slotId()).get() + " restarts within "
        + settings.restartWindow().toMinutes() + " minutes";
    ctx.getLog().error("slot {}: {}; slot Failed until the node restarts or the slot is re-hosted", m.slotId(), reason);
    ClusterSharding.get(ctx.getSystem()).entityRefFor(ModelSlotEntity.ENTITY_KEY, m.slotId())
        .tell(new ModelSlotEntity.MarkFailed(reason, ctx.getSystem().ignoreRef()));
    return Behaviors.same();
  }
}
