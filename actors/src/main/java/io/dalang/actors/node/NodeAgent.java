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
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;

/**
 * The root of a node's supervision tree. On start it registers this node's executor (devices and
 * address) and starts one supervised {@link EngineActor} per slot assigned to the node. Afterwards it
 * keeps its engines in line with the executor's assigned slots: on {@link SyncNow} (placement tells
 * every agent, found through the receptionist under {@link #SERVICE_KEY}, after it assigned or took
 * away slots) and every {@code sync-interval}, it starts engines for new or changed slots and stops
 * those of slots no longer assigned. An engine actor that exhausts its restarts stops; the agent then
 * marks the slot Failed for good.
 *
 * <p>{@link Drain} (the node is leaving gracefully) drains every engine: the slots go {@code Draining}
 * and take no new runs, the running ones finish (within the timeout), then the slots are
 * {@code Stopped}; it replies then, and the agent starts no engine after it.
 *
 * <p>{@link AwaitRegistered} replies once the executor is registered; {@link GetSlots} replies the
 * specs this node runs.
 *
 * <p>Device memory is live: every {@link DeviceReadings#interval()}, and after every engine loads or
 * lets go of its model, the agent reads its devices' free memory again (off the actor's thread) and
 * reports it with the slots whose engines were loaded at the time ({@code ExecutorEntity.ReportDevices}),
 * so placement sees memory another process took, and does not count twice what its own engines hold.
 * Nodes whose devices have no live reading (CPU, lavapipe, configured devices) skip all of it.
 */
public final class NodeAgent {

  public interface Command extends CborSerializable {}

  /** The agents of the cluster's GPU nodes, for placement to nudge. */
  public static final ServiceKey<Command> SERVICE_KEY = ServiceKey.create(Command.class, "dalang-node-agent");

  /** Reads the executor's assigned slots now and starts or stops engines to match. */
  public record SyncNow() implements Command {}

  public record AwaitRegistered(ActorRef<Registered> replyTo) implements Command {}

  public record Registered(String nodeId, List<Device> devices) implements CborSerializable {}

  public record GetSlots(ActorRef<List<SlotSpec>> replyTo) implements Command {}

  /** Lets every engine finish its runs and take no new ones, within {@code timeout}; replies when they are done. */
  public record Drain(java.time.Duration timeout, ActorRef<org.apache.pekko.Done> replyTo) implements Command {}

  /** Stops every engine of this node, then the agent; replies once they are stopped. */
  public record Shutdown(ActorRef<org.apache.pekko.Done> replyTo) implements Command {}

  private record RegistrationResult(StatusReply<ExecutorEntity.ExecutorView> reply) implements Command {}

  private record EngineStopped(String slotId, SlotSpec spec) implements Command {}

  private record Synced(ExecutorEntity.ExecutorView view) implements Command {}

  private record SlotDrained(String slotId, boolean inTime) implements Command {}

  /** The engine of a slot no longer assigned here finished draining ({@code inTime}) or its drain timed out. */
  private record Unhosted(String slotId, ActorRef<EngineActor.Command> engine, boolean inTime) implements Command {}

  private record EngineLoadChanged(String slotId, long instance, boolean loaded) implements Command {}

  private record DevicesRead(List<Device> devices, java.util.Set<String> loaded) implements Command {}

  private enum Tick implements Command { SYNC, DEVICES }

  /**
   * How the agent reads its devices' free memory again: {@code refresh} takes the devices and returns
   * them with fresh readings (it may block: it runs on the blocking dispatcher), every {@code interval}.
   */
  public record DeviceReadings(java.util.function.UnaryOperator<List<Device>> refresh, Duration interval) {
    public static final DeviceReadings NONE = new DeviceReadings(d -> d, Duration.ZERO);
  }

  private static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(10);

  public static Behavior<Command> create(String nodeId, List<Device> devices, EngineFactory factory, EngineSettings settings,
      ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics) {
    return create(nodeId, devices, factory, settings, topic, metrics, DeviceReadings.NONE);
  }

  public static Behavior<Command> create(String nodeId, List<Device> devices, EngineFactory factory, EngineSettings settings,
      ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics, DeviceReadings readings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(SERVICE_KEY, ctx.getSelf()));
      timers.startTimerWithFixedDelay(Tick.SYNC, settings.syncInterval());
      boolean live = devices.stream().anyMatch(Device::memoryMeasured) && readings.interval().toMillis() > 0;
      if (live) timers.startTimerWithFixedDelay(Tick.DEVICES, readings.interval());
      return new NodeAgent(ctx, nodeId, devices, factory, settings, topic, metrics, live ? readings : null).registering();
    }));
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
  /** Null when no device has a live reading. */
  private final DeviceReadings readings;
  private final ActorRef<EngineActor.EngineLoaded> loadedAdapter;
  /** Slots whose engines hold their model now, with the engine instance that does. */
  private final Map<String, Long> loaded = new HashMap<>();
  /** The latest readings, and whether a reading is under way (then another is asked for when it ends). */
  private List<Device> readingsNow;
  private boolean reading;
  private boolean readAgain;
  /** Slots still draining, and who waits for them; null until {@link Drain}. */
  private java.util.Set<String> draining;
  private final List<ActorRef<org.apache.pekko.Done>> drainWaiters = new ArrayList<>();

  private NodeAgent(ActorContext<Command> ctx, String nodeId, List<Device> devices, EngineFactory factory,
      EngineSettings settings, ActorRef<Topic.Command<SlotStatus>> topic, MeterRegistry metrics, DeviceReadings readings) {
    this.ctx = ctx;
    this.readings = readings;
    this.readingsNow = devices;
    this.loadedAdapter = ctx.messageAdapter(EngineActor.EngineLoaded.class, l -> new EngineLoadChanged(l.slotId(), l.instance(), l.loaded()));
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
          view.slots().forEach(this::host);
          waiters.forEach(w -> w.tell(new Registered(nodeId, devices)));
          waiters.clear();
          return running();
        })
        .onMessage(AwaitRegistered.class, m -> {
          waiters.add(m.replyTo());
          return Behaviors.same();
        })
        .onMessage(GetSlots.class, m -> {
          m.replyTo().tell(List.copyOf(hosted.values()));
          return Behaviors.same();
        })
        .onMessage(SyncNow.class, m -> Behaviors.same()) // registration brings the assigned slots
        .onMessage(Drain.class, m -> {
          m.replyTo().tell(org.apache.pekko.Done.getInstance()); // no engine runs yet
          return Behaviors.same();
        })
        .onMessage(SlotDrained.class, m -> Behaviors.same())
        .onMessageEquals(Tick.SYNC, Behaviors::same)
        .onMessageEquals(Tick.DEVICES, Behaviors::same)
        .onMessage(EngineLoadChanged.class, this::onEngineLoadChanged)
        .onMessage(DevicesRead.class, this::onDevicesRead)
        .onMessage(Synced.class, m -> Behaviors.same())
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
        .onMessage(SyncNow.class, m -> sync())
        .onMessageEquals(Tick.SYNC, this::sync)
        .onMessage(Synced.class, this::onSynced)
        .onMessage(Drain.class, this::onDrain)
        .onMessage(SlotDrained.class, this::onSlotDrained)
        .onMessage(AwaitRegistered.class, m -> {
          m.replyTo().tell(new Registered(nodeId, devices));
          return Behaviors.same();
        })
        .onMessage(GetSlots.class, m -> {
          m.replyTo().tell(List.copyOf(hosted.values()));
          return Behaviors.same();
        })
        .onMessage(EngineStopped.class, this::onEngineStopped)
        .onMessage(Unhosted.class, this::onUnhosted)
        .onMessageEquals(Tick.DEVICES, this::readDevices)
        .onMessage(EngineLoadChanged.class, this::onEngineLoadChanged)
        .onMessage(DevicesRead.class, this::onDevicesRead)
        .onMessage(Shutdown.class, this::onShutdown)
        .onSignal(Terminated.class, t -> Behaviors.same())
        .build();
  }

  private Behavior<Command> onEngineLoadChanged(EngineLoadChanged m) {
    Long holder = loaded.get(m.slotId());
    boolean changed;
    if (m.loaded()) {
      changed = holder == null || holder < m.instance();
      if (changed) loaded.put(m.slotId(), m.instance());
    } else {
      // Only the engine that loaded may take it back: an older engine's close can come after a newer one loaded.
      changed = holder != null && holder == m.instance();
      if (changed) loaded.remove(m.slotId());
    }
    return changed ? readDevices() : Behaviors.same();
  }

  /** Reads the devices again, off the actor's thread; one reading at a time, a request during one gives one more after it. */
  private Behavior<Command> readDevices() {
    if (readings == null) return Behaviors.same();
    if (reading) {
      readAgain = true;
      return Behaviors.same();
    }
    reading = true;
    var snapshot = java.util.Set.copyOf(loaded.keySet()); // taken before the reading: what it surely counts
    var current = readingsNow;
    var blocking = ctx.getSystem().dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking());
    ctx.pipeToSelf(java.util.concurrent.CompletableFuture.supplyAsync(() -> readings.refresh().apply(current), blocking),
        (d, err) -> new DevicesRead(err != null ? null : d, snapshot));
    return Behaviors.same();
  }

  private Behavior<Command> onDevicesRead(DevicesRead m) {
    reading = false;
    if (m.devices() != null) {
      readingsNow = m.devices();
      ClusterSharding.get(ctx.getSystem()).entityRefFor(ExecutorEntity.ENTITY_KEY, nodeId)
          .tell(new ExecutorEntity.ReportDevices(m.devices(), m.loaded()));
    }
    if (readAgain) {
      readAgain = false;
      return readDevices();
    }
    return Behaviors.same();
  }

  private Behavior<Command> onDrain(Drain m) {
    drainWaiters.add(m.replyTo());
    if (draining != null) return Behaviors.same();
    draining = new java.util.HashSet<>(engines.keySet());
    ctx.getLog().info("node {}: draining {} slot(s) (at most {} s)", nodeId, draining.size(), m.timeout().toSeconds());
    var sharding = ClusterSharding.get(ctx.getSystem());
    // Placement replaces this node's replicas elsewhere while they finish their runs.
    sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, nodeId).tell(new ExecutorEntity.ReportHealth(false, "draining: the node is leaving"));
    for (var e : engines.entrySet()) {
      String slotId = e.getKey();
      sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, slotId).tell(new ModelSlotEntity.Drain(ctx.getSystem().ignoreRef()));
      ctx.ask(org.apache.pekko.Done.class, e.getValue(), m.timeout(), EngineActor.Drain::new, (d, err) -> new SlotDrained(slotId, err == null));
    }
    return drainedIfDone();
  }

  private Behavior<Command> onSlotDrained(SlotDrained m) {
    if (draining == null || !draining.remove(m.slotId())) return Behaviors.same();
    if (!m.inTime()) ctx.getLog().warn("slot {}: runs still going when the drain timed out; they end with engine_failed", m.slotId());
    ClusterSharding.get(ctx.getSystem()).entityRefFor(ModelSlotEntity.ENTITY_KEY, m.slotId())
        .tell(new ModelSlotEntity.MarkStopped(ctx.getSystem().ignoreRef()));
    return drainedIfDone();
  }

  private Behavior<Command> drainedIfDone() {
    if (!draining.isEmpty()) return Behaviors.same();
    ctx.getLog().info("node {}: drained", nodeId);
    drainWaiters.forEach(w -> w.tell(org.apache.pekko.Done.getInstance()));
    drainWaiters.clear();
    return Behaviors.same();
  }

  private Behavior<Command> sync() {
    if (draining != null) return Behaviors.same(); // leaving: no engine starts or stops but by the drain
    var executor = ClusterSharding.get(ctx.getSystem()).entityRefFor(ExecutorEntity.ENTITY_KEY, nodeId);
    ctx.ask(ExecutorEntity.ExecutorView.class, executor, REGISTER_TIMEOUT, ExecutorEntity.GetExecutor::new,
        (view, err) -> new Synced(err != null ? null : view));
    return Behaviors.same();
  }

  /** Engines for the slots the executor lists (new or changed), none for the slots it no longer lists. */
  private Behavior<Command> onSynced(Synced m) {
    var view = m.view();
    if (view == null) return Behaviors.same(); // no answer (control nodes busy or away): try again next time
    if (!view.registered()) {
      ctx.getLog().warn("node {}: the executor does not know this node (journal reset?); registering again", nodeId);
      return registering();
    }
    var assigned = new HashMap<String, SlotSpec>();
    view.slots().forEach(s -> assigned.put(s.slotId(), s));
    for (String slotId : List.copyOf(hosted.keySet())) {
      if (!assigned.containsKey(slotId)) unhost(slotId);
    }
    assigned.values().forEach(this::host);
    return Behaviors.same();
  }

  /**
   * Stops the engine of a slot this node no longer runs (retired by a scale-down, lost with a partition,
   * or placed elsewhere): drained first, so the runs it holds finish (at most {@code dalang.node.drain-timeout}),
   * and no new ones reach it; then stopped.
   */
  private void unhost(String slotId) {
    hosted.remove(slotId);
    ActorRef<EngineActor.Command> engine = engines.remove(slotId);
    if (engine != null) {
      ctx.getLog().info("slot {}: no longer assigned to node {}; draining its engine, then stopping it", slotId, nodeId);
      ctx.unwatch(engine);
      ctx.ask(org.apache.pekko.Done.class, engine, settings.drainTimeout(), EngineActor.Drain::new,
          (d, err) -> new Unhosted(slotId, engine, err == null));
    }
  }

  private Behavior<Command> onUnhosted(Unhosted m) {
    if (!m.inTime()) ctx.getLog().warn("slot {}: runs still going when its drain timed out; they end with engine_failed", m.slotId());
    else ctx.getLog().info("slot {}: drained; stopping its engine", m.slotId());
    ctx.stop(m.engine());
    if (!hosted.containsKey(m.slotId())) {
      ClusterSharding.get(ctx.getSystem()).entityRefFor(ModelSlotEntity.ENTITY_KEY, m.slotId())
          .tell(new ModelSlotEntity.MarkStopped(ctx.getSystem().ignoreRef()));
    }
    return Behaviors.same();
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
    var ref = ctx.spawn(EngineActor.supervised(spec, device, factory, settings, topic, metrics, restarts, loadedAdapter), name);
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
