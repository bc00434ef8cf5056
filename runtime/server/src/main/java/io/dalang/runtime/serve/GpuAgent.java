package io.dalang.runtime.serve;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.model.ModelCacheAgent;
import io.dalang.actors.model.NodeModelCache;
import io.dalang.actors.node.NodeAgent;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.provider.ProviderAccess;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.engine.chaos.Chaos;
import io.dalang.gpu.GpuProbe;
import io.dalang.models.BlobDownloader;
import io.dalang.models.BlobStore;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.node.Device;
import io.dalang.runtime.engine.RuntimeEngineFactory;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * The start of a node's agent with its engines ({@code gpu} role): on the devices configured or probed,
 * registered as this node's executor. On the way out the slots drain first; the engines stop before
 * sharding and the journal go away, so their last status updates still land.
 */
final class GpuAgent {
  private GpuAgent() {}

  /** The slot-status topic this node's engines publish on and placement listens to. */
  static ActorRef<Topic.Command<SlotStatus>> slotStatusTopic(ActorSystem<?> system) {
    return system.systemActorOf(Topic.create(SlotStatus.class, SlotStatus.TOPIC), "slot-status-topic", Props.empty());
  }

  /**
   * Starts the agent and waits until it registered its executor; returns that registration.
   *
   * @param providers where slots of upstream pools find their servers ({@link RuntimeEngineFactory})
   */
  static NodeAgent.Registered start(ActorSystem<?> system, Settings settings, ActorRef<Topic.Command<SlotStatus>> topic,
      PrometheusMeterRegistry metrics, Chaos chaos, ProviderAccess providers) throws Exception {
    var s = settings.agent();
    // Hosted on control nodes, proxies elsewhere: the agent registers its executor, engines report their slot.
    ExecutorEntity.init(system);
    ModelSlotEntity.init(system);
    String nodeId = nodeId(s.nodeId(), settings.dataDir());
    List<Device> devices = GpuProbe.probe(s.devices(), s.backend());
    DeviceReport.log(devices, s.backend(), s.engineBuilds());
    var readings = new NodeAgent.DeviceReadings(GpuProbe::refresh, s.deviceRefreshInterval());
    var cacheSettings = s.modelCache();
    var cacheStore = new BlobStore(settings.dataDir().resolve("model-cache"));
    var modelCache = new NodeModelCache(system, nodeId, cacheStore, new BlobDownloader(cacheStore, cacheSettings.ioTimeout(), cacheSettings.attempts()),
        cacheSettings.maxBytes(), cacheSettings.locateTimeout(), metrics,
        settings.hasRole(NodeRoles.CONTROL) ? settings.dataDir().resolve("models") : null);
    var engines = s.engines().withModels(modelCache);
    system.systemActorOf(ModelCacheAgent.create(nodeId, modelCache, cacheSettings.maxBytes()), "model-cache", Props.empty());
    var agent = system.systemActorOf(NodeAgent.create(nodeId, devices, new RuntimeEngineFactory(s.engineBuilds(), chaos, providers), engines, topic,
        metrics, readings), "node-agent", Props.empty());
    var shutdown = CoordinatedShutdown.get(system);
    // Leaving: the slots take no new runs and finish theirs (bounded by dalang.node.drain-timeout)...
    Duration drainTimeout = s.engines().drainTimeout();
    shutdown.addTask(CoordinatedShutdown.PhaseServiceRequestsDone(), "drain-slots",
        () -> AskPattern.<NodeAgent.Command, Done>ask(agent, r -> new NodeAgent.Drain(drainTimeout, r),
            drainTimeout.plusSeconds(2), system.scheduler()).exceptionally(e -> Done.getInstance()));
    // ...then the engines stop, before sharding and the journal go away.
    shutdown.addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-engines",
        () -> AskPattern.<NodeAgent.Command, Done>ask(agent, NodeAgent.Shutdown::new, Duration.ofSeconds(10), system.scheduler()));
    return AskPattern.<NodeAgent.Command, NodeAgent.Registered>ask(agent, NodeAgent.AwaitRegistered::new,
        Duration.ofSeconds(60), system.scheduler()).toCompletableFuture().get(65, TimeUnit.SECONDS);
  }

  /** {@code configured} ({@code dalang.node.id}) unless blank, else the id stored in {@code <data-dir>/node.id}, created on first start. */
  static String nodeId(String configured, Path dataDir) throws IOException {
    if (!configured.isBlank()) return configured;
    Path f = dataDir.resolve("node.id");
    if (Files.isRegularFile(f)) return Files.readString(f).strip();
    String id = "node-" + UUID.randomUUID().toString().substring(0, 8);
    PrivateFiles.replace(f, id + "\n");
    return id;
  }
}
