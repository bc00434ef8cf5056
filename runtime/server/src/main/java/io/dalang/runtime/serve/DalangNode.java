package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.actors.NodeRoles;
import io.dalang.actors.apikey.ApiKeyEntity;
import io.dalang.actors.jobs.IdempotencyEntity;
import io.dalang.actors.jobs.JobEntity;
import io.dalang.actors.jobs.JobSettings;
import io.dalang.actors.jobs.TenantJobsEntity;
import io.dalang.actors.engine.EngineSettings;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.node.NodeAgent;
import io.dalang.actors.admission.AdmissionSettings;
import io.dalang.actors.admission.PoolAdmission;
import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditAnchor;
import io.dalang.actors.audit.AuditGate;
import io.dalang.actors.audit.AuditSettings;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.breaker.BreakerSettings;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.secrets.MasterKeys;
import io.dalang.actors.secrets.SecretEntity;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.actors.secrets.SecretsSettings;
import io.dalang.protocols.auth.Role;
import io.dalang.actors.quota.TenantUsage;
import io.dalang.runtime.admin.AdminApi;
import io.dalang.runtime.admin.AuditSink;
import io.dalang.runtime.admin.KeyService;
import io.dalang.actors.placement.PlacementSettings;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.run.RunSettings;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.engine.chaos.Chaos;
import io.dalang.gpu.GpuProbe;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.node.Device;
import io.dalang.protocols.redaction.Redaction;
import io.dalang.protocols.redaction.Redactor;
import io.dalang.runtime.auth.AuthSettings;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.engine.ChaosConfig;
import io.dalang.runtime.engine.RuntimeEngineFactory;
import io.dalang.runtime.grpc.GrpcServer;
import io.dalang.runtime.http.ConnectionWatch;
import io.dalang.runtime.http.HttpApi;
import io.dalang.runtime.http.JobsApi;
import io.dalang.runtime.jobs.JobService;
import io.dalang.runtime.jobs.LauncherJobExecutor;
import io.dalang.runtime.runs.RunLauncher;
import io.dalang.runtime.tls.ClusterTls;
import io.dalang.runtime.tls.EdgeTls;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Dalang process, a member of a Pekko cluster. {@link #start} ({@code dalang serve}) runs a
 * control node: sharding and JDBC persistence, placement and telemetry, the HTTP and gRPC edges and,
 * with the {@code gpu} role, this node's agent and engines; it returns once the API listens, and slots
 * become Ready in the background ({@code /readyz} says when). {@link #startNode} ({@code dalang node})
 * runs a GPU node: it joins through seed nodes and runs only the agent and its engines.
 */
public final class DalangNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DalangNode.class);

  private final ActorSystem<Void> system;
  private final ServerBinding http;
  private final ServerBinding grpc;
  private final Path dataDir;
  private final String demoKey;
  private final String nodeId;
  private final ActorRef<PlacementActor.Command> placement;
  private final RunLauncher runs;
  private final Chaos chaos;
  private final KeyService keys;

  private DalangNode(ActorSystem<Void> system, ServerBinding http, ServerBinding grpc, Path dataDir, String demoKey, String nodeId,
      ActorRef<PlacementActor.Command> placement, RunLauncher runs, Chaos chaos, KeyService keys) {
    this.system = system;
    this.keys = keys;
    this.chaos = chaos;
    this.placement = placement;
    this.runs = runs;
    this.http = http;
    this.grpc = grpc;
    this.dataDir = dataDir;
    this.demoKey = demoKey;
    this.nodeId = nodeId;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  /** The HTTP API's port; a node started by {@link #startNode} has none. */
  public int httpPort() {
    if (http == null) throw new IllegalStateException("a GPU node has no HTTP API");
    return http.localAddress().getPort();
  }

  public int grpcPort() {
    if (grpc == null) throw new IllegalStateException("a GPU node has no gRPC API");
    return grpc.localAddress().getPort();
  }

  public Path dataDir() {
    return dataDir;
  }

  /** The demo key if this start created or was given it, else null (it is in the key file). */
  public String demoKey() {
    return demoKey;
  }

  /** This node's executor id; null for a control node without the {@code gpu} role. */
  public String nodeId() {
    return nodeId;
  }

  /** The live slots as this node's placement sees them (operators, tests and benchmarks). */
  public java.util.concurrent.CompletionStage<PlacementActor.Fleet> fleet() {
    return AskPattern.ask(placement, PlacementActor.GetFleet::new, Duration.ofSeconds(5), system.scheduler());
  }

  /** Starts runs as the HTTP edge does, minus HTTP: the canonical events a run hands its edge (tests, benchmarks). */
  public RunLauncher runs() {
    return runs;
  }

  /** This node's fault-injection switchboard ({@code dalang.chaos}; tests and drills switch faults on it). */
  public Chaos chaos() {
    return chaos;
  }

  /** Issues and revokes keys as the admin API does (tests issue a key of their choosing); null on a GPU node. */
  public KeyService keys() {
    return keys;
  }

  /** A tenant's quota usage now, as the admin API shows it. */
  private static java.util.concurrent.CompletionStage<Map<String, Object>> usage(ActorSystem<?> system, String tenant, Duration timeout) {
    return ClusterSharding.get(system).entityRefFor(TenantUsage.ENTITY_KEY, tenant)
        .<TenantUsage.Usage>ask(TenantUsage.GetUsage::new, timeout).thenApply(u -> {
          var m = new java.util.LinkedHashMap<String, Object>();
          m.put("requests_this_minute", u.requestsThisMinute());
          m.put("minute_resets_at", u.minuteResetsAt().toString());
          m.put("tokens_today", u.tokensToday());
          m.put("day_resets_at", u.dayResetsAt().toString());
          m.put("in_flight", u.inFlight());
          return m;
        });
  }

  /** The effective configuration: flags over {@code --config FILE} over the shipped defaults. */
  public static Config config(ServeOptions o) {
    Map<String, Object> flags = new HashMap<>();
    if (o.dataDir() != null) flags.put("dalang.data-dir", o.dataDir().toAbsolutePath().normalize().toString());
    if (o.httpPort() != null) flags.put("dalang.http.port", o.httpPort());
    if (o.grpcPort() != null) flags.put("dalang.grpc.port", o.grpcPort());
    // A free HTTP port asked for (tests, benchmarks, sweeps) means a free gRPC port too, unless given.
    else if (o.httpPort() != null && o.httpPort() == 0) flags.put("dalang.grpc.port", 0);
    if (o.clusterPort() != null) flags.put("pekko.remote.artery.canonical.port", o.clusterPort());
    if (o.engine() != null) flags.put("dalang.engine.default", o.engine());
    if (o.backend() != null) flags.put("dalang.engine.backend", o.backend());
    return config(flags, o.configFile(), ConfigFactory.empty());
  }

  /** The effective configuration of {@code dalang node}: as {@link #config(ServeOptions)}, roles {@code ["gpu"]} by default. */
  public static Config config(NodeOptions o) {
    Map<String, Object> flags = new HashMap<>();
    if (o.dataDir() != null) flags.put("dalang.data-dir", o.dataDir().toAbsolutePath().normalize().toString());
    if (o.clusterPort() != null) flags.put("pekko.remote.artery.canonical.port", o.clusterPort());
    flags.put("pekko.cluster.seed-nodes", o.seedNodes());
    if (o.devices() != null) flags.put("dalang.node.devices", o.deviceConfig());
    if (o.backend() != null) flags.put("dalang.engine.backend", o.backend());
    if (o.clusterTls() != null) flags.put("dalang.cluster.tls-dir", o.clusterTls().toAbsolutePath().normalize().toString());
    return config(flags, o.configFile(), ConfigFactory.parseMap(Map.of("dalang.node.roles", List.of(NodeRoles.GPU))));
  }

  /** {@code flags} over {@code configFile} over {@code defaults} over the shipped configuration. */
  private static Config config(Map<String, Object> flags, Path configFile, Config defaults) {
    Config user = configFile != null ? ConfigFactory.parseFile(configFile.toFile()) : ConfigFactory.empty();
    Config c = ConfigFactory.parseMap(flags).withFallback(user).withFallback(defaults).withFallback(ConfigFactory.load()).resolve();
    Path dataDir = Path.of(c.getString("dalang.data-dir")).toAbsolutePath().normalize();
    c = ConfigFactory.parseMap(Map.of("dalang.data-dir", dataDir.toString(),
        // The shipped default was resolved from the default roles; the node's own roles win.
        "pekko.cluster.roles", c.getStringList("dalang.node.roles"))).withFallback(c);
    if (c.getString("pekko-persistence-jdbc.shared-databases.slick.db.url").isBlank()) {
      // WRITE_DELAY=0: every commit reaches the file before it returns. H2's default (500 ms) writes
      // committed transactions in the background, so a kill -9 lost what was acknowledged just before it
      // (jobs answered 202 were gone after a restart). No AUTO_SERVER: see EmbeddedJournal.
      String url = EmbeddedJournal.url(dataDir);
      c = ConfigFactory.parseMap(Map.of("pekko-persistence-jdbc.shared-databases.slick.db.url", url)).withFallback(c);
    }
    return withDatabaseProfile(c);
  }

  static final String H2_PROFILE = "slick.jdbc.H2Profile$";
  static final String POSTGRES_PROFILE = "slick.jdbc.PostgresProfile$";

  /** A PostgreSQL URL with the shipped (H2) profile and driver gets PostgreSQL's: DALANG_JDBC_URL alone selects the database. */
  private static Config withDatabaseProfile(Config c) {
    String db = "pekko-persistence-jdbc.shared-databases.slick";
    if (!c.getString(db + ".db.url").startsWith("jdbc:postgresql:") || !c.getString(db + ".profile").equals(H2_PROFILE)) return c;
    return ConfigFactory.parseMap(Map.of(db + ".profile", POSTGRES_PROFILE, db + ".db.driver", "org.postgresql.Driver")).withFallback(c);
  }

  /**
   * {@code dalang serve}: a control node (the journal, every sharded entity and singleton, the demo and
   * admin bootstrap, the HTTP and gRPC edges) and, with the {@code gpu} role (the default), this node's
   * agent and engines. Without seed nodes it forms a single-node cluster.
   */
  public static DalangNode start(ServeOptions options, PrintStream out) throws Exception {
    Config config = EmbeddedJournal.prepare(config(options));
    if (!config.getStringList("dalang.node.roles").contains(NodeRoles.CONTROL)) {
      throw new IllegalArgumentException("dalang serve runs a control node: dalang.node.roles must contain \"" + NodeRoles.CONTROL
          + "\" (it is " + config.getStringList("dalang.node.roles") + "); use `dalang node` for a GPU node");
    }
    String demoKey = options.demoKey() != null ? options.demoKey() : System.getenv("DALANG_DEMO_KEY");
    return withSystem(config, formsCluster(config), (system, dataDir) -> startControl(system, config, dataDir, demoKey, out));
  }

  /**
   * {@code dalang node}: joins the cluster through its seed nodes and runs this node's agent (executor
   * registration, the engines of the slots placed here). No edges, no bootstrap, and no journal: the
   * entities it talks to live on control nodes and are reached through sharding proxies.
   */
  public static DalangNode startNode(NodeOptions options) throws Exception {
    Config config = config(options);
    if (config.getStringList("dalang.node.roles").contains(NodeRoles.CONTROL)) {
      throw new IllegalArgumentException("dalang node runs a GPU node without the journal: dalang.node.roles must not contain \""
          + NodeRoles.CONTROL + "\"; use `dalang serve` for a control node");
    }
    return withSystem(config, false, (system, dataDir) -> {
      joinCluster(system, JOIN_TIMEOUT);
      var metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      var chaos = ChaosConfig.from(config, metrics);
      var agent = startAgent(system, config, dataDir, slotStatusTopic(system), metrics, chaos);
      var registered = awaitRegistered(system, agent);
      log.info("node {} joined the cluster with {} device(s)", registered.nodeId(), registered.devices().size());
      writePidFile(system, dataDir);
      return new DalangNode(system, null, null, dataDir, null, registered.nodeId(), null, null, chaos, null);
    });
  }

  private interface Starter {
    DalangNode start(ActorSystem<Void> system, Path dataDir) throws Exception;
  }

  /**
   * Creates the actor system for {@code config} (its cluster transport under {@link ClusterTls}, which may
   * make the cluster CA when {@code formsCluster}) and runs {@code starter} on it; terminates it if that fails.
   */
  private static DalangNode withSystem(Config config, boolean formsCluster, Starter starter) throws Exception {
    // Before the actor system starts, so its first log line already follows dalang.redaction.
    Redaction.install(Redactor.of(RedactionConfig.read(config)));
    Path dataDir = Path.of(config.getString("dalang.data-dir"));
    PrivateFiles.createDirectories(dataDir);
    int loosened = PrivateFiles.tighten(dataDir);
    if (loosened > 0) log.info("data dir {}: {} files and folders were open to other local users; now owner-only (0700/0600)", dataDir, loosened);
    var system = ActorSystem.<Void>create(Behaviors.empty(), "dalang", ClusterTls.apply(config, formsCluster));
    try {
      return starter.start(system, dataDir);
    } catch (Exception | Error e) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw e;
    }
  }

  /** Whether this control node forms the cluster (no seed nodes, or the first is itself), and so may make its CA. */
  private static boolean formsCluster(Config config) {
    List<String> seeds = config.getStringList("pekko.cluster.seed-nodes");
    String self = "pekko://dalang@" + config.getString("pekko.remote.artery.canonical.hostname") + ":"
        + config.getInt("pekko.remote.artery.canonical.port");
    return seeds.isEmpty() || seeds.get(0).equals(self);
  }

  /** How long a node waits for its seed nodes to let it in. */
  private static final Duration JOIN_TIMEOUT = Duration.ofSeconds(120);

  /** Joins through {@code pekko.cluster.seed-nodes}, or joins itself when there are none; waits until this member is Up. */
  private static void joinCluster(ActorSystem<?> system, Duration timeout) throws InterruptedException {
    var cluster = Cluster.get(system);
    List<String> seeds = system.settings().config().getStringList("pekko.cluster.seed-nodes");
    if (seeds.isEmpty()) cluster.manager().tell(Join.create(cluster.selfMember().address())); // else Pekko joins the seeds itself
    long deadline = System.nanoTime() + timeout.toNanos();
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the cluster member did not come Up within " + timeout.toSeconds() + " s"
            + (seeds.isEmpty() ? "" : "; are the seed nodes " + seeds + " running?"));
      }
      Thread.sleep(20);
    }
    log.info("cluster up: {} at {} with roles {}", seeds.isEmpty() ? "single node" : "joined through " + seeds,
        cluster.selfMember().address(), cluster.selfMember().getRoles());
  }

  private static ActorRef<Topic.Command<SlotStatus>> slotStatusTopic(ActorSystem<?> system) {
    return system.systemActorOf(Topic.create(SlotStatus.class, SlotStatus.TOPIC), "slot-status-topic", Props.empty());
  }

  /**
   * This node's agent with its engines, on the devices configured or probed. On the way out the slots
   * drain first; the engines stop before sharding and the journal go away, so their last status
   * updates still land.
   */
  private static ActorRef<NodeAgent.Command> startAgent(ActorSystem<?> system, Config config, Path dataDir,
      ActorRef<Topic.Command<SlotStatus>> topic, PrometheusMeterRegistry metrics, Chaos chaos) throws IOException {
    // Hosted on control nodes, proxies elsewhere: the agent registers its executor, engines report their slot.
    ExecutorEntity.init(system);
    ModelSlotEntity.init(system);
    String nodeId = nodeId(config, dataDir);
    List<Device> devices = GpuProbe.probe(configuredDevices(config), config.getString("dalang.engine.backend"));
    DeviceReport.log(devices, config);
    var readings = new NodeAgent.DeviceReadings(GpuProbe::refresh, config.getDuration("dalang.node.device-refresh-interval"));
    var agent = system.systemActorOf(NodeAgent.create(nodeId, devices, new RuntimeEngineFactory(config, chaos),
        EngineSettings.from(config, dataDir), topic, metrics, readings), "node-agent", Props.empty());
    var shutdown = org.apache.pekko.actor.CoordinatedShutdown.get(system);
    // Leaving: the slots take no new runs and finish theirs (bounded by dalang.node.drain-timeout)...
    Duration drainTimeout = config.getDuration("dalang.node.drain-timeout");
    shutdown.addTask(org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceRequestsDone(), "drain-slots",
        () -> AskPattern.<NodeAgent.Command, org.apache.pekko.Done>ask(agent, r -> new NodeAgent.Drain(drainTimeout, r),
            drainTimeout.plusSeconds(2), system.scheduler()).exceptionally(e -> org.apache.pekko.Done.getInstance()));
    // ...then the engines stop, before sharding and the journal go away.
    shutdown.addTask(org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceStop(),
        "stop-engines", () -> AskPattern.<NodeAgent.Command, org.apache.pekko.Done>ask(agent, NodeAgent.Shutdown::new,
            Duration.ofSeconds(10), system.scheduler()));
    return agent;
  }

  /** Waits until {@code agent} registered its executor. */
  private static NodeAgent.Registered awaitRegistered(ActorSystem<?> system, ActorRef<NodeAgent.Command> agent) throws Exception {
    return AskPattern.<NodeAgent.Command, NodeAgent.Registered>ask(agent, NodeAgent.AwaitRegistered::new,
        Duration.ofSeconds(60), system.scheduler()).toCompletableFuture().get(65, TimeUnit.SECONDS);
  }

  private static DalangNode startControl(ActorSystem<Void> system, Config config, Path dataDir, String demoKey, PrintStream out)
      throws Exception {
    joinCluster(system, JOIN_TIMEOUT);
    SchemaUtils.createIfNotExists(system).toCompletableFuture().get(60, TimeUnit.SECONDS);
    PrivateFiles.tighten(dataDir.resolve("db")); // H2 creates its files under the umask, inside the 0700 folder
    log.info("journal ready: {}", config.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"));

    TenantEntity.init(system);
    ApiKeyEntity.init(system);
    PoolEntity.init(system);
    ProviderEntity.init(system);
    ExecutorEntity.init(system);
    ModelSlotEntity.init(system);

    var metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var chaos = ChaosConfig.from(config, metrics);
    Duration askTimeout = config.getDuration("dalang.http.ask-timeout");
    var topic = slotStatusTopic(system);
    var placementSettings = PlacementSettings.from(config);
    var placement = system.systemActorOf(PlacementActor.create(topic, placementSettings, metrics), "placement", Props.empty());
    PoolAdmission.init(system, new PoolAdmission.Settings(pool -> AdmissionSettings.forPool(config, pool), placementSettings,
        config.getInt("dalang.admission.engine-lookahead"), BreakerSettings.from(config)), topic, metrics);
    TenantUsage.init(system, config.getDuration("dalang.quotas.checkpoint-interval"));
    var telemetry = system.systemActorOf(TelemetryActor.create(dataDir.resolve("runs").resolve("runs.jsonl"),
        config.getInt("dalang.runs.keep-in-memory"), config.getBytes("dalang.runs.keep-in-memory-bytes"), metrics, config.getString("dalang.telemetry.sidecar"),
        config.getDuration("dalang.telemetry.sidecar-interval")), "telemetry", Props.empty());

    // The audit ledger's single writer (a cluster singleton), and the edges' way to it.
    ActorRef<AuditActor.Command> auditLedger = AuditActor.init(system, config, AuditAnchor.open(dataDir));
    AuditSink audit = (tenant, actor, action, target, outcome, reason, details) ->
        auditLedger.tell(new AuditActor.Record(AuditSink.entry(tenant, actor, action, target, outcome, reason, details)));
    var auditGate = new AuditGate(auditLedger, system.scheduler(), askTimeout);
    // Tenant secrets, encrypted under the master key; every access goes to the ledger, and a read is
    // answered only once its record is stored.
    var secretKeys = MasterKeys.load(SecretsSettings.from(config, dataDir), System.getenv());
    SecretEntity.init(system, secretKeys, access -> auditLedger.tell(new AuditActor.Record(AuditSink.secretEntry(access))),
        read -> auditGate.recordDurably(AuditSink.secretEntry(read)));
    var secrets = new SecretsClient(system, secretKeys, askTimeout);
    if (AdminBootstrap.ensure(system, dataDir, System.getenv("DALANG_ADMIN_KEY"), out)) {
      audit.record(Role.PLATFORM_TENANT, "system", "key.issue", AdminBootstrap.KEY_ID, "ok", "", Map.of("role", "platform-admin"));
    }
    var bootstrap = new DemoBootstrap(system, dataDir, config, config.getString("dalang.engine.default"), out);
    String key = config.getBoolean("dalang.demo.enabled") ? bootstrap.prepare(demoKey) : null;

    // Every pool's replicas, placed on the gpu nodes of the cluster (a singleton on the control nodes).
    var replicas = ReplicaReconciler.init(system, ReplicaReconciler.Settings.from(config));
    String nodeId = null;
    if (config.getStringList("dalang.node.roles").contains(NodeRoles.GPU)) {
      nodeId = awaitRegistered(system, startAgent(system, config, dataDir, topic, metrics, chaos)).nodeId();
      replicas.tell(new ReplicaReconciler.ReconcileNow()); // this node's devices are known now
    }

    var runSettings = RunSettings.from(config);
    io.dalang.runtime.http.Json.limitNesting(runSettings.limits().nestingDepth());
    var runs = new RunLauncher(system, placement, telemetry, runSettings, config.getInt("dalang.http.stream-buffer"),
        new Fallbacks(secrets, ProviderEntity.lookup(system, askTimeout), metrics, config.getDuration("dalang.fallback.remote-timeout")));
    var auth = new Authenticator(system, askTimeout, AuthSettings.from(config), metrics);
    var keys = new KeyService(system, askTimeout, auth::issued);
    // Durable jobs: remembered jobs (those unfinished when the node stopped) start again here.
    var jobSettings = JobSettings.from(config);
    IdempotencyEntity.init(system);
    TenantJobsEntity.init(system);
    JobEntity.init(system, new LauncherJobExecutor(system, runs, auth, jobSettings.maxConcurrentAttempts(), jobSettings.maxReplayTokens()), jobSettings);
    var jobs = new JobService(system, askTimeout, jobSettings, placement, runSettings.limits());
    var admin = new AdminApi(system, auth, keys, audit, placement, askTimeout,
        tenant -> usage(system, tenant, askTimeout), secrets, auditLedger, AuditStore.fromConfig(config),
        AuditSettings.from(config).blockSize(), jobs,
        new AdminApi.PoolSettings(replicas, RuntimeEngineFactory.KINDS, config.getString("dalang.engine.default")), chaos);
    var edge = io.dalang.runtime.http.EdgeLimits.from(config);
    var api = new HttpApi(system, auth, runs, placement, telemetry, askTimeout, RuntimeEngineFactory.KINDS, metrics::scrape,
        io.dalang.runtime.http.MetricsAccess.from(config), admin.route(),
        new JobsApi(jobs, runs.settings()), edge.sseKeepAlive());
    String host = config.getString("dalang.http.host");
    // HTTP/1.1 with every connection watched, so that a client hanging up cancels its waiting runs
    // (ConnectionWatch); gRPC's HTTP/2 has its own binding.
    var tls = EdgeTls.serverContext(config);
    // gRPC first: once the HTTP port answers (/readyz), every port of the node is bound.
    ServerBinding grpc = GrpcServer.bind(system, config, tls, auth, runs, placement, askTimeout, jobs);
    ServerBinding binding = EdgeTls.secure(Http.get(system).newServerAt(host, config.getInt("dalang.http.port")), tls)
        .adaptSettings(s -> s.withEnableHttp2(false).withPreviewServerSettings(s.getPreviewServerSettings().withEnableHttp2(false)))
        .bindFlow(ConnectionWatch.wrap(api.route().handler(system), edge))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
    String scheme = tls.isPresent() ? "https" : "http";
    log.info("listening on {}://{}:{} (OpenAI-compatible API under /v1)", scheme, host, binding.localAddress().getPort());
    String local = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    writeWhileRunning(system, urlFile(dataDir), scheme + "://" + local + ":" + binding.localAddress().getPort() + "\n");
    return new DalangNode(system, binding, grpc, dataDir, key, nodeId, placement, runs, chaos, keys);
  }

  /** Where {@code dalang node} writes its process id while it runs, for {@code dalang node drain}. */
  public static Path pidFile(Path dataDir) {
    return dataDir.resolve("node.pid");
  }

  /** Where {@code dalang serve} writes its HTTP address while it runs, for the CLI commands that ask it (status, audit). */
  public static Path urlFile(Path dataDir) {
    return dataDir.resolve("serve.url");
  }

  private static void writePidFile(ActorSystem<?> system, Path dataDir) throws IOException {
    writeWhileRunning(system, pidFile(dataDir), ProcessHandle.current().pid() + "\n");
  }

  /** Writes {@code f} (0600) and deletes it when {@code system} terminates. */
  private static void writeWhileRunning(ActorSystem<?> system, Path f, String text) throws IOException {
    PrivateFiles.replace(f, text);
    system.getWhenTerminated().thenRun(() -> {
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        log.debug("could not delete {}: {}", f, e.getMessage());
      }
    });
  }

  /** {@code dalang.node.id}, else the id stored in {@code <data-dir>/node.id}, created on first start. */
  static String nodeId(Config config, Path dataDir) throws IOException {
    String configured = config.getString("dalang.node.id");
    if (!configured.isBlank()) return configured;
    Path f = dataDir.resolve("node.id");
    if (Files.isRegularFile(f)) return Files.readString(f).strip();
    String id = "node-" + UUID.randomUUID().toString().substring(0, 8);
    PrivateFiles.replace(f, id + "\n");
    return id;
  }

  static List<Device> configuredDevices(Config config) {
    return config.getConfigList("dalang.node.devices").stream().map(d -> new Device(
        d.getString("id"), d.hasPath("kind") ? d.getString("kind") : Device.CPU, d.hasPath("index") ? d.getInt("index") : 0,
        d.hasPath("name") ? d.getString("name") : d.getString("id"), d.getLong("memory-total-mib"),
        d.hasPath("memory-free-mib") ? d.getLong("memory-free-mib") : d.getLong("memory-total-mib"),
        d.hasPath("compute-capability") ? d.getString("compute-capability") : "",
        d.hasPath("software") && d.getBoolean("software"), false)).toList();
  }

  @Override
  public void close() {
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("the actor system did not terminate cleanly", e);
    }
  }
}
