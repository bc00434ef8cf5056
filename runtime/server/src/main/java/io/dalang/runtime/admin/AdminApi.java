package io.dalang.runtime.admin;

import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditGate;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.engine.chaos.Chaos;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.jobs.JobService;
import io.dalang.runtime.models.ModelImports;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin API under {@code /admin/v1}: one route class a feature, each given only what it uses, behind
 * the shared {@link AdminDirectives} (authentication, the audit gate, the access check). Every endpoint
 * names the roles it admits, and every check is tenant-scoped: a key of tenant A never reads or changes
 * anything of tenant B. Every change and every denial is audited. Bodies are read strictly
 * ({@code Json.parseStrict}, {@code AdminValidation}). Keys are shown once, in the answer that issues them.
 *
 * <p>Who may do what (each route class has its part of this table):
 * <pre>
 * tenant.create, pool.grant, quota.set          platform-admin                        {@link TenantRoutes}, {@link QuotaRoutes}
 * tenant.read, quota.read, fallback.read        platform-admin, operator, the tenant's own keys
 * fallback.set                                  platform-admin; tenant-admin of the tenant   {@link FallbackRoutes}
 * key.issue / key.rotate / key.revoke (tenant)  platform-admin; tenant-admin of the tenant (tenant roles only)  {@link KeyRoutes}
 * key.issue / key.revoke (platform)             platform-admin
 * secret.write, secret.delete                   platform-admin; tenant-admin of the tenant   {@link SecretRoutes}
 * secret.list                                   platform-admin, operator; tenant-admin of the tenant
 * secret.rotate                                 platform-admin
 * audit.read                                    platform-admin, operator; tenant-admin (its own tenant)  {@link AuditRoutes}
 * audit.verify, journal.read                    platform-admin, operator              {@link HostRoutes}
 * fleet.read                                    platform-admin, operator              {@link FleetRoutes}
 * pool.create, pool.update                      platform-admin                        {@link PoolRoutes}
 * pool.read                                     platform-admin, operator
 * model.add, model.remove                       platform-admin                        {@link ModelRoutes}
 * model.read                                    platform-admin, operator
 * provider.create, provider.update, .delete     platform-admin                        {@link ProviderRoutes}
 * provider.read                                 platform-admin, operator
 * chaos.read                                    platform-admin, operator              {@link ChaosRoutes}
 * chaos.set, chaos.clear                        platform-admin
 * dlq.read, job.replay                          platform-admin, operator; tenant-admin (its own jobs)  {@link DeadLetterRoutes}
 * </pre>
 */
public final class AdminApi extends AllDirectives {
  private final AdminDirectives admin;
  private final List<AdminRoute> features;

  /**
   * @param ledger the audit ledger's writer: the gate in front of every change, and audit pages; {@code auditStore} for exports
   */
  public AdminApi(ActorSystem<?> system, Authenticator auth, KeyService keys, AuditSink audit,
      ActorRef<PlacementActor.Command> placement, Duration timeout, SecretsClient secrets, ActorRef<AuditActor.Command> ledger,
      AuditStore auditStore, int auditBlockSize, JobService jobs, PoolSettings pools, Chaos chaos, ModelImports models) {
    this.admin = new AdminDirectives(auth, audit, new AuditGate(ledger, system.scheduler(), timeout));
    var tenants = new Tenants(system, timeout);
    this.features = List.of(
        new TenantRoutes(admin, tenants, auth, audit, ProviderEntity.lookup(system, timeout)),
        new QuotaRoutes(system, admin, tenants, auth, audit),
        new KeyRoutes(admin, tenants, keys, auth, audit),
        new FallbackRoutes(admin, tenants, ProviderEntity.lookup(system, timeout), auth, audit),
        new SecretRoutes(admin, tenants, secrets),
        new AuditRoutes(system, admin, ledger, auditStore, auditBlockSize, timeout),
        new FleetRoutes(system, admin, placement, timeout),
        new PoolRoutes(system, admin, timeout, audit, pools.reconciler(), pools.engines(), pools.defaultEngine(), models.store(), pools.telemetry()),
        new ModelRoutes(system, admin, timeout, audit, models),
        new HostRoutes(system, admin, auditStore, auditBlockSize),
        new ProviderRoutes(system, admin, timeout, audit, secrets),
        new ChaosRoutes(admin, chaos, audit),
        new DeadLetterRoutes(admin, jobs, audit));
  }

  /**
   * What the pool endpoints need: the replica reconciler to nudge, the engines a pool may name, the
   * one it gets when it names none ({@code dalang.engine.default}), and the telemetry that shows how each
   * version of a pool in a rollout or split does.
   */
  public record PoolSettings(ActorRef<ReplicaReconciler.Command> reconciler, List<String> engines, String defaultEngine,
      ActorRef<io.dalang.actors.telemetry.TelemetryActor.Command> telemetry) {}

  /** The routes under {@code /admin/v1}; errors are rendered by the enclosing API's handlers. */
  public Route route() {
    return pathPrefix("admin", () -> pathPrefix("v1", () -> admin.authenticated(p -> {
      var routes = features.stream().map(f -> f.route(p)).toArray(Route[]::new);
      return concat(routes[0], Arrays.copyOfRange(routes, 1, routes.length));
    })));
  }
}
