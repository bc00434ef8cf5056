package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import io.dalang.actors.NodeRoles;
import io.dalang.actors.admission.PoolAdmission;
import io.dalang.actors.apikey.ApiKeyEntity;
import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditAnchor;
import io.dalang.actors.audit.AuditGate;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.actors.jobs.IdempotencyEntity;
import io.dalang.actors.jobs.JobEntity;
import io.dalang.actors.jobs.TenantJobsEntity;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.model.BlobServer;
import io.dalang.actors.model.BlobTokens;
import io.dalang.actors.model.ModelEntity;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.pool.RolloutController;
import io.dalang.actors.provider.ProviderAccess;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.quota.TenantUsage;
import io.dalang.actors.secrets.MasterKeys;
import io.dalang.actors.secrets.SecretEntity;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.runtime.admin.AdminApi;
import io.dalang.runtime.admin.AuditSink;
import io.dalang.runtime.admin.KeyService;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.engine.ChaosConfig;
import io.dalang.runtime.engine.RuntimeEngineFactory;
import io.dalang.runtime.grpc.GrpcServer;
import io.dalang.runtime.http.ConnectionWatch;
import io.dalang.runtime.http.HttpApi;
import io.dalang.runtime.http.JobsApi;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.jobs.JobService;
import io.dalang.runtime.jobs.LauncherJobExecutor;
import io.dalang.runtime.models.BlobRoutes;
import io.dalang.runtime.models.ModelImports;
import io.dalang.models.BlobDownloader;
import io.dalang.models.BlobStore;
import io.dalang.runtime.runs.RunLauncher;
import io.dalang.runtime.tls.EdgeTls;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.PrintStream;
import java.sql.Connection;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start of a control node, once it is a cluster member: the journal's schema, every sharded
 * entity and singleton, the demo and admin bootstrap, this node's agent where it has the {@code gpu}
 * role, and the HTTP and gRPC edges. Returns once the API listens; slots become Ready in the background.
 */
final class ControlPlane {
  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

  private ControlPlane() {}

  /**
   * @param config the effective configuration, for what reads it beside {@code settings}: the journal's
   *     database (the schema migration, the audit store; persistence-jdbc reads it from the actor system)
   */
  static DalangNode start(ActorSystem<Void> system, Config config, Settings settings, String demoKey, PrintStream out) throws Exception {
    var dataDir = settings.dataDir();
    var s = settings.control();
    try (Connection c = EmbeddedJournal.connect(config)) {
      JournalSchema.migrate(c);
    }
    PrivateFiles.tighten(dataDir.resolve("db")); // H2 creates its files under the umask, inside the 0700 folder
    log.info("journal ready: {}", config.getString("pekko-persistence-jdbc.shared-databases.slick.db.url"));

    TenantEntity.init(system);
    ApiKeyEntity.init(system);
    PoolEntity.init(system);
    ProviderEntity.init(system);
    ModelEntity.init(system);
    ExecutorEntity.init(system);
    ModelSlotEntity.init(system);

    var metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    var chaos = ChaosConfig.start(settings.chaos(), metrics);
    Duration askTimeout = s.askTimeout();
    var topic = GpuAgent.slotStatusTopic(system);
    var placement = system.systemActorOf(PlacementActor.create(topic, s.placement(), metrics), "placement", Props.empty());
    // A pool's A/B split, as each pool's admission routes by it.
    var poolSharding = org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(system);
    java.util.function.Function<String, java.util.concurrent.CompletionStage<io.dalang.actors.admission.TrafficSplit>> splits = pool ->
        poolSharding.entityRefFor(PoolEntity.ENTITY_KEY, pool).<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, askTimeout).thenApply(v ->
            v.exists() && v.rollingOut() && v.rollout().phase().equals(io.dalang.actors.pool.Rollout.SPLIT)
                ? new io.dalang.actors.admission.TrafficSplit(v.spec().catalogRef(), v.rollout().target(), v.rollout().splitPercent())
                : null);
    PoolAdmission.init(system, new PoolAdmission.Settings(s.admission()::apply, s.placement(), s.engineLookahead(), s.breakers(), splits),
        topic, metrics);
    TenantUsage.init(system, s.quotaCheckpointInterval());
    var telemetry = system.systemActorOf(TelemetryActor.create(dataDir.resolve("runs").resolve("runs.jsonl"), s.runsKeptInMemory(),
        s.runsKeptInMemoryBytes(), metrics, s.telemetrySidecar(), s.telemetrySidecarInterval()), "telemetry", Props.empty());

    // The audit ledger's single writer (a cluster singleton), and the edges' way to it.
    var auditStore = AuditStore.fromConfig(config);
    var auditLedger = AuditActor.init(system, auditStore, s.audit(), AuditAnchor.open(dataDir));
    AuditSink audit = (tenant, actor, action, target, outcome, reason, details) ->
        auditLedger.tell(new AuditActor.Record(AuditSink.entry(tenant, actor, action, target, outcome, reason, details)));
    var auditGate = new AuditGate(auditLedger, system.scheduler(), askTimeout);
    // Tenant secrets, encrypted under the master key; every access goes to the ledger, and a read is
    // answered only once its record is stored.
    var secretKeys = MasterKeys.load(s.secrets(), System.getenv());
    SecretEntity.init(system, secretKeys, access -> auditLedger.tell(new AuditActor.Record(AuditSink.secretEntry(access))),
        read -> auditGate.recordDurably(AuditSink.secretEntry(read)));
    var secrets = new SecretsClient(system, secretKeys, askTimeout);
    if (AdminBootstrap.ensure(system, dataDir, System.getenv("DALANG_ADMIN_KEY"), out)) {
      audit.record(Role.PLATFORM_TENANT, "system", "key.issue", AdminBootstrap.KEY_ID, "ok", "", Map.of("role", "platform-admin"));
    }
    var bootstrap = new DemoBootstrap(system, dataDir, s.demo(), s.defaultEngine(), out);
    String key = s.demo().enabled() ? bootstrap.prepare(demoKey) : null;

    // Every pool's replicas, placed on the gpu nodes of the cluster (a singleton on the control nodes).
    var replicas = ReplicaReconciler.init(system, s.replicas());
    // Rollouts of pools to other catalog versions, judged on the runs this node's telemetry sees.
    RolloutController.init(system, new RolloutController.Settings(s.replicas().interval(), askTimeout, 3), telemetry, replicas,
        step -> audit.record("", "system", "pool.rollout." + step.to(), step.poolId(), "ok", step.note(),
            Map.of("to", step.target(), "from_phase", step.from())));
    String nodeId = null;
    if (settings.hasRole(NodeRoles.GPU)) {
      nodeId = GpuAgent.start(system, settings, topic, metrics, chaos, new ProviderAccess(secrets, ProviderEntity.lookup(system, askTimeout))).nodeId();
      replicas.tell(new ReplicaReconciler.ReconcileNow()); // this node's devices are known now
    }

    Json.limitNesting(s.runs().limits().nestingDepth());
    var runs = new RunLauncher(system, placement, telemetry, s.runs(), s.streamBuffer(),
        new Fallbacks(secrets, ProviderEntity.lookup(system, askTimeout), metrics, s.fallbackRemoteTimeout()));
    var auth = new Authenticator(system, askTimeout, s.auth(), metrics);
    var keys = new KeyService(system, askTimeout, auth::issued);
    // Durable jobs: remembered jobs (those unfinished when the node stopped) start again here.
    var jobSettings = s.jobs();
    IdempotencyEntity.init(system);
    TenantJobsEntity.init(system);
    JobEntity.init(system, new LauncherJobExecutor(system, runs, auth, jobSettings.maxConcurrentAttempts(), jobSettings.maxReplayTokens()), jobSettings);
    var jobs = new JobService(system, askTimeout, jobSettings, placement, s.runs().limits());
    // The model catalog's blobs, in this node's store; imports copy or download into it.
    var catalogStore = new BlobStore(dataDir.resolve("models"));
    var modelImports = new ModelImports(system, catalogStore, new BlobDownloader(catalogStore, Duration.ofSeconds(30), 5), s.catalog(),
        system.address().toString(), askTimeout);
    var admin = new AdminApi(system, auth, keys, audit, placement, askTimeout, secrets, auditLedger, auditStore,
        s.audit().blockSize(), jobs, new AdminApi.PoolSettings(replicas, RuntimeEngineFactory.KINDS, s.defaultEngine(), telemetry), chaos, modelImports);
    var blobTokens = new BlobTokens();
    var api = new HttpApi(system, auth, runs, placement, telemetry, askTimeout, RuntimeEngineFactory.KINDS, metrics::scrape,
        s.metricsAccess(), admin.route().orElse(new BlobRoutes(catalogStore, blobTokens).route()), new JobsApi(jobs, runs.settings()), s.edge().sseKeepAlive());
    // HTTP/1.1 with every connection watched, so that a client hanging up cancels its waiting runs
    // (ConnectionWatch); gRPC's HTTP/2 has its own binding.
    var tls = EdgeTls.serverContext(s.edgeTls(), dataDir, s.httpHost(), s.grpcHost());
    // gRPC first: once the HTTP port answers (/readyz), every port of the node is bound.
    ServerBinding grpc = GrpcServer.bind(system, s.grpcHost(), s.grpcPort(), tls, auth, runs, placement, askTimeout, jobs);
    String host = s.httpHost();
    ServerBinding binding = EdgeTls.secure(Http.get(system).newServerAt(host, s.httpPort()), tls)
        .adaptSettings(h -> h.withEnableHttp2(false).withPreviewServerSettings(h.getPreviewServerSettings().withEnableHttp2(false)))
        .bindFlow(ConnectionWatch.wrap(api.route().handler(system), s.edge(), system.executionContext()))
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    binding.addToCoordinatedShutdown(Duration.ofSeconds(10), system);
    String scheme = tls.isPresent() ? "https" : "http";
    log.info("listening on {}://{}:{} (OpenAI-compatible API under /v1)", scheme, host, binding.localAddress().getPort());
    String local = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    DalangNode.writeWhileRunning(system, DalangNode.urlFile(dataDir), scheme + "://" + local + ":" + binding.localAddress().getPort() + "\n");
    // Nodes pull the catalog's blobs over this edge, with a token asked for over the cluster transport.
    String advertised = s.catalog().advertiseUrl().isBlank()
        ? scheme + "://" + (host.equals("0.0.0.0") || host.equals("::") ? system.address().getHost().orElse("127.0.0.1") : host) + ":"
            + binding.localAddress().getPort()
        : s.catalog().advertiseUrl().replaceAll("/+$", "");
    system.systemActorOf(BlobServer.create(catalogStore, blobTokens, advertised, EdgeTls.certificateSha256(s.edgeTls(), dataDir).orElse(null),
        s.catalog().tokenTtl()), "model-blobs", Props.empty());
    return new DalangNode(system, settings, binding, grpc, key, nodeId, placement, runs, chaos, keys);
  }

}
