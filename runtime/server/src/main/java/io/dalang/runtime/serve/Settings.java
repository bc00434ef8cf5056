package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import io.dalang.actors.NodeRoles;
import io.dalang.actors.admission.AdmissionSettings;
import io.dalang.actors.audit.AuditSettings;
import io.dalang.actors.breaker.BreakerSettings;
import io.dalang.actors.engine.EngineSettings;
import io.dalang.actors.jobs.JobSettings;
import io.dalang.actors.placement.PlacementSettings;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.run.RunSettings;
import io.dalang.actors.secrets.SecretsSettings;
import io.dalang.protocols.node.Device;
import io.dalang.protocols.redaction.RedactionSettings;
import io.dalang.runtime.auth.AuthSettings;
import io.dalang.runtime.engine.ChaosConfig;
import io.dalang.runtime.engine.RuntimeEngineFactory;
import io.dalang.runtime.models.CatalogSettings;
import io.dalang.runtime.models.ModelCacheSettings;
import io.dalang.runtime.http.EdgeLimits;
import io.dalang.runtime.http.MetricsAccess;
import io.dalang.runtime.tls.ClusterTls;
import io.dalang.runtime.tls.EdgeTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;

/**
 * A node's {@code dalang.*} configuration, read once from the effective {@link Config} at start
 * ({@link DalangNode#config}). Each field names the key it reads; where a feature has a settings record
 * of its own ({@code RunSettings}, {@code JobSettings}, …) that record is the field.
 *
 * <p>Not here: the journal's database ({@code pekko-persistence-jdbc.*}, read by persistence-jdbc, the
 * audit store and {@link JournalSchema}'s caller), which is Pekko's configuration, not Dalang's.
 *
 * @param dataDir {@code dalang.data-dir}, absolute
 * @param roles {@code dalang.node.roles}
 * @param redaction {@code dalang.redaction}
 * @param chaos {@code dalang.chaos}
 * @param clusterTls {@code dalang.cluster.tls} and {@code dalang.cluster.tls-dir}
 * @param agent what a node with the {@code gpu} role reads; every node has it, a control node without the role ignores it
 * @param control what a node with the {@code control} role reads; null on a GPU node, which reads none of it
 */
public record Settings(Path dataDir, List<String> roles, RedactionSettings redaction, ChaosConfig.Settings chaos,
    ClusterTls.Settings clusterTls, Agent agent, Control control) {

  /**
   * The node agent and its engines.
   *
   * @param nodeId {@code dalang.node.id}; blank: the id kept in {@code <data-dir>/node.id}
   * @param devices {@code dalang.node.devices}; empty: probe them
   * @param deviceRefreshInterval {@code dalang.node.device-refresh-interval}
   * @param backend {@code dalang.engine.backend}
   * @param engineBuilds {@code dalang.engine.{cache-dir, llama-server-*, gpu-build-attempts, start-timeout, native-log}}
   * @param engines the {@code dalang.engine}, {@code dalang.node} and {@code dalang.admission} keys the engine actors use
   *     ({@code drainTimeout} is {@code dalang.node.drain-timeout})
   * @param modelCache {@code dalang.node.model-cache}
   */
  public record Agent(String nodeId, List<Device> devices, Duration deviceRefreshInterval, String backend,
      RuntimeEngineFactory.Settings engineBuilds, EngineSettings engines, ModelCacheSettings modelCache) {

    static Agent from(Config c, Path dataDir) {
      return new Agent(c.getString("dalang.node.id"), devices(c), c.getDuration("dalang.node.device-refresh-interval"),
          c.getString("dalang.engine.backend"), RuntimeEngineFactory.Settings.from(c), EngineSettings.from(c, dataDir),
          ModelCacheSettings.from(c));
    }

    static List<Device> devices(Config config) {
      return config.getConfigList("dalang.node.devices").stream().map(d -> new Device(
          d.getString("id"), d.hasPath("kind") ? d.getString("kind") : Device.CPU, d.hasPath("index") ? d.getInt("index") : 0,
          d.hasPath("name") ? d.getString("name") : d.getString("id"), d.getLong("memory-total-mib"),
          d.hasPath("memory-free-mib") ? d.getLong("memory-free-mib") : d.getLong("memory-total-mib"),
          d.hasPath("compute-capability") ? d.getString("compute-capability") : "",
          d.hasPath("software") && d.getBoolean("software"), false)).toList();
    }
  }

  /**
   * The journal's entities and singletons, the run path and the edges.
   *
   * @param askTimeout {@code dalang.http.ask-timeout}: every edge's ask of an entity
   * @param edgeTls {@code dalang.http.tls}, {@code tls-cert-file}, {@code tls-key-file}: both edges' TLS
   * @param httpHost {@code dalang.http.host}
   * @param httpPort {@code dalang.http.port}; 0: a free one
   * @param grpcHost {@code dalang.grpc.host}
   * @param grpcPort {@code dalang.grpc.port}; 0: a free one
   * @param streamBuffer {@code dalang.http.stream-buffer}: events buffered between a run and its edge
   * @param edge {@code dalang.http.{header-timeout, keep-alive-timeout, max-connections-per-address, max-connections, sse-keep-alive}}
   * @param metricsAccess {@code dalang.metrics.auth}
   * @param auth {@code dalang.http.auth-*}
   * @param defaultEngine {@code dalang.engine.default}: the demo pool's engine
   * @param demo {@code dalang.demo}
   * @param placement {@code dalang.placement}
   * @param replicas {@code dalang.placement.{reconcile-interval, lost-after, settle}}
   * @param admission {@code dalang.admission} with {@code dalang.admission.pools."<pool>"} over it, per pool: pools come and go while
   *     the node runs, so each is read when its admission starts
   * @param engineLookahead {@code dalang.admission.engine-lookahead}
   * @param breakers {@code dalang.breaker}
   * @param quotaCheckpointInterval {@code dalang.quotas.checkpoint-interval}
   * @param runsKeptInMemory {@code dalang.runs.keep-in-memory}
   * @param runsKeptInMemoryBytes {@code dalang.runs.keep-in-memory-bytes}
   * @param telemetrySidecar {@code dalang.telemetry.sidecar}
   * @param telemetrySidecarInterval {@code dalang.telemetry.sidecar-interval}
   * @param runs {@code dalang.runs} and {@code dalang.limits}
   * @param fallbackRemoteTimeout {@code dalang.fallback.remote-timeout}
   * @param jobs {@code dalang.jobs}
   * @param audit {@code dalang.audit}
   * @param secrets {@code dalang.secrets}
   * @param catalog {@code dalang.models}
   */
  public record Control(Duration askTimeout, EdgeTls.Settings edgeTls, String httpHost, int httpPort, String grpcHost, int grpcPort, int streamBuffer, EdgeLimits edge,
      MetricsAccess metricsAccess, AuthSettings auth, String defaultEngine, DemoBootstrap.Settings demo, PlacementSettings placement,
      ReplicaReconciler.Settings replicas, Function<String, AdmissionSettings> admission, int engineLookahead, BreakerSettings breakers,
      Duration quotaCheckpointInterval, int runsKeptInMemory, long runsKeptInMemoryBytes, String telemetrySidecar,
      Duration telemetrySidecarInterval, RunSettings runs, Duration fallbackRemoteTimeout, JobSettings jobs, AuditSettings audit,
      SecretsSettings secrets, CatalogSettings catalog) {

    static Control from(Config c, Path dataDir) {
      return new Control(c.getDuration("dalang.http.ask-timeout"), EdgeTls.Settings.from(c), c.getString("dalang.http.host"), c.getInt("dalang.http.port"),
          c.getString("dalang.grpc.host"), c.getInt("dalang.grpc.port"), c.getInt("dalang.http.stream-buffer"), EdgeLimits.from(c),
          MetricsAccess.from(c), AuthSettings.from(c), c.getString("dalang.engine.default"), DemoBootstrap.Settings.from(c),
          PlacementSettings.from(c), ReplicaReconciler.Settings.from(c), pool -> AdmissionSettings.forPool(c, pool),
          c.getInt("dalang.admission.engine-lookahead"), BreakerSettings.from(c), c.getDuration("dalang.quotas.checkpoint-interval"),
          c.getInt("dalang.runs.keep-in-memory"), c.getBytes("dalang.runs.keep-in-memory-bytes"), c.getString("dalang.telemetry.sidecar"),
          c.getDuration("dalang.telemetry.sidecar-interval"), RunSettings.from(c), c.getDuration("dalang.fallback.remote-timeout"),
          JobSettings.from(c), AuditSettings.from(c), SecretsSettings.from(c, dataDir), CatalogSettings.from(c));
    }
  }

  /** {@code config}'s settings; the control part only where the roles include {@code control}. */
  public static Settings from(Config config) {
    Path dataDir = Path.of(config.getString("dalang.data-dir"));
    List<String> roles = config.getStringList("dalang.node.roles");
    return new Settings(dataDir, roles, RedactionConfig.read(config), ChaosConfig.Settings.from(config), ClusterTls.Settings.from(config),
        Agent.from(config, dataDir),
        roles.contains(NodeRoles.CONTROL) ? Control.from(config, dataDir) : null);
  }

  public boolean hasRole(String role) {
    return roles.contains(role);
  }
}
