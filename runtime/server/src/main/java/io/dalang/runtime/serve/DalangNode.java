package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.actors.NodeRoles;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.provider.ProviderAccess;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.secrets.MasterKeys;
import io.dalang.actors.secrets.SecretEntity;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.engine.chaos.Chaos;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.redaction.Redaction;
import io.dalang.protocols.redaction.Redactor;
import io.dalang.runtime.admin.KeyService;
import io.dalang.runtime.engine.ChaosConfig;
import io.dalang.runtime.runs.RunLauncher;
import io.dalang.runtime.tls.ClusterTls;
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
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running Dalang process, a member of a Pekko cluster. Here: the node's effective configuration
 * ({@link #config}, read once into {@link Settings}), its actor system and its joining the cluster.
 * {@link #start} ({@code dalang serve}) then starts a control node ({@link ControlPlane}: the journal and
 * its schema, every entity, the HTTP and gRPC edges and, with the {@code gpu} role, this node's agent);
 * it returns once the API listens, and slots become Ready in the background ({@code /readyz} says when).
 * {@link #startNode} ({@code dalang node}) runs a GPU node: it joins through seed nodes and runs only the
 * agent and its engines ({@link GpuAgent}).
 */
public final class DalangNode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DalangNode.class);

  private final ActorSystem<Void> system;
  private final Settings settings;
  private final ServerBinding http;
  private final ServerBinding grpc;
  private final String demoKey;
  private final String nodeId;
  private final ActorRef<PlacementActor.Command> placement;
  private final RunLauncher runs;
  private final Chaos chaos;
  private final KeyService keys;

  DalangNode(ActorSystem<Void> system, Settings settings, ServerBinding http, ServerBinding grpc, String demoKey, String nodeId,
      ActorRef<PlacementActor.Command> placement, RunLauncher runs, Chaos chaos, KeyService keys) {
    this.system = system;
    this.settings = settings;
    this.keys = keys;
    this.chaos = chaos;
    this.placement = placement;
    this.runs = runs;
    this.http = http;
    this.grpc = grpc;
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
    return settings.dataDir();
  }

  /** The {@code dalang.*} configuration this node started with. */
  public Settings settings() {
    return settings;
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
  public CompletionStage<PlacementActor.Fleet> fleet() {
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
    Settings settings = Settings.from(config);
    if (!settings.hasRole(NodeRoles.CONTROL)) {
      throw new IllegalArgumentException("dalang serve runs a control node: dalang.node.roles must contain \"" + NodeRoles.CONTROL
          + "\" (it is " + settings.roles() + "); use `dalang node` for a GPU node");
    }
    String demoKey = options.demoKey() != null ? options.demoKey() : System.getenv("DALANG_DEMO_KEY");
    return withSystem(config, settings, formsCluster(config), system -> {
      joinCluster(system, JOIN_TIMEOUT);
      return ControlPlane.start(system, config, settings, demoKey, out);
    });
  }

  /**
   * {@code dalang node}: joins the cluster through its seed nodes and runs this node's agent (executor
   * registration, the engines of the slots placed here). No edges, no bootstrap, and no journal: the
   * entities it talks to live on control nodes and are reached through sharding proxies.
   */
  public static DalangNode startNode(NodeOptions options) throws Exception {
    Config config = config(options);
    Settings settings = Settings.from(config);
    if (settings.hasRole(NodeRoles.CONTROL)) {
      throw new IllegalArgumentException("dalang node runs a GPU node without the journal: dalang.node.roles must not contain \""
          + NodeRoles.CONTROL + "\"; use `dalang serve` for a control node");
    }
    return withSystem(config, settings, false, system -> {
      joinCluster(system, JOIN_TIMEOUT);
      var metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      var chaos = ChaosConfig.start(settings.chaos(), metrics);
      var registered = GpuAgent.start(system, settings, GpuAgent.slotStatusTopic(system), metrics, chaos, providers(system, config, settings));
      log.info("node {} joined the cluster with {} device(s)", registered.nodeId(), registered.devices().size());
      writeWhileRunning(system, pidFile(settings.dataDir()), ProcessHandle.current().pid() + "\n");
      return new DalangNode(system, settings, null, null, null, registered.nodeId(), null, null, chaos, null);
    });
  }

  /**
   * How a GPU node's upstream slots reach their providers: the providers through sharding, and their keys
   * only when this node is given the platform's master key ({@code DALANG_MASTER_KEY}); without it a
   * provider that has a key cannot be fronted from here (its slot fails to start, saying so).
   */
  private static ProviderAccess providers(ActorSystem<?> system, Config config, Settings settings) throws java.io.IOException {
    ProviderEntity.init(system);
    Duration timeout = GPU_NODE_ASK_TIMEOUT;
    var lookup = ProviderEntity.lookup(system, timeout);
    String key = System.getenv(MasterKeys.ENV_CURRENT);
    if (key == null || key.isBlank()) return new ProviderAccess(null, lookup);
    var keys = MasterKeys.load(io.dalang.actors.secrets.SecretsSettings.from(config, settings.dataDir()), System.getenv());
    SecretEntity.init(system, keys, access -> { }); // a proxy here: the entities, and their audit, live on control nodes
    return new ProviderAccess(new SecretsClient(system, keys, timeout), lookup);
  }

  /** How long a GPU node's engines wait for a provider or its key (it has no edges, so no dalang.http.ask-timeout of its own). */
  private static final Duration GPU_NODE_ASK_TIMEOUT = Duration.ofSeconds(10);

  private interface Starter {
    DalangNode start(ActorSystem<Void> system) throws Exception;
  }

  /**
   * Creates the actor system for {@code config} (its cluster transport under {@link ClusterTls}, which may
   * make the cluster CA when {@code formsCluster}) and runs {@code starter} on it; terminates it if that fails.
   */
  private static DalangNode withSystem(Config config, Settings settings, boolean formsCluster, Starter starter) throws Exception {
    // Before the actor system starts, so its first log line already follows dalang.redaction.
    Redaction.install(Redactor.of(settings.redaction()));
    io.dalang.engine.RemoteOpenAiEndpoint.maxStreams(config.getInt("dalang.engine.remote-streams-max"));
    Path dataDir = settings.dataDir();
    PrivateFiles.createDirectories(dataDir);
    int loosened = PrivateFiles.tighten(dataDir);
    if (loosened > 0) log.info("data dir {}: {} files and folders were open to other local users; now owner-only (0700/0600)", dataDir, loosened);
    var system = ActorSystem.<Void>create(Behaviors.empty(), "dalang", ClusterTls.apply(config, settings.clusterTls(), formsCluster));
    try {
      return starter.start(system);
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

  /** Where {@code dalang node} writes its process id while it runs, for {@code dalang node drain}. */
  public static Path pidFile(Path dataDir) {
    return dataDir.resolve("node.pid");
  }

  /** Where {@code dalang serve} writes its HTTP address while it runs, for the CLI commands that ask it (status, audit). */
  public static Path urlFile(Path dataDir) {
    return dataDir.resolve("serve.url");
  }

  /** Writes {@code f} (0600) and deletes it when {@code system} terminates. */
  static void writeWhileRunning(ActorSystem<?> system, Path f, String text) throws IOException {
    PrivateFiles.replace(f, text);
    system.getWhenTerminated().thenRun(() -> {
      try {
        Files.deleteIfExists(f);
      } catch (IOException e) {
        log.debug("could not delete {}: {}", f, e.getMessage());
      }
    });
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
