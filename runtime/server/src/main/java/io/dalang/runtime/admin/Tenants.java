package io.dalang.runtime.admin;

import io.dalang.actors.jobs.JobLimits;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;

/** The tenant entities as the admin routes reach them, and a tenant's wire form. */
final class Tenants {
  private final ClusterSharding sharding;
  private final Duration timeout;

  Tenants(ActorSystem<?> system, Duration timeout) {
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
  }

  Duration timeout() {
    return timeout;
  }

  EntityRef<TenantEntity.Command> ref(String id) {
    return sharding.entityRefFor(TenantEntity.ENTITY_KEY, id);
  }

  /** Asks a tenant's command; its refusal ({@code 404} for no tenant) is the answer. */
  CompletionStage<TenantEntity.TenantView> change(String id, Function<ActorRef<StatusReply<TenantEntity.TenantView>>, TenantEntity.Command> command) {
    if (!knownId(id)) return CompletableFuture.failedFuture(notFound(id));
    return ref(id).askWithStatus(r -> command.apply(r), timeout);
  }

  CompletionStage<TenantEntity.TenantView> read(String id) {
    return ref(id).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, timeout);
  }

  /** The tenant, or {@code 404 not_found}; an id no tenant can have is not looked up. */
  CompletionStage<TenantEntity.TenantView> existing(String id) {
    if (!knownId(id)) return CompletableFuture.failedFuture(notFound(id));
    return read(id).thenApply(v -> {
      if (!v.exists()) throw notFound(id);
      return v;
    });
  }

  private static boolean knownId(String id) {
    return AdminValidation.ID.matcher(id).matches();
  }

  private static DalangException notFound(String id) {
    return new DalangException(ErrorCode.NOT_FOUND, "no tenant " + id);
  }

  static AdminResponses.Tenant body(TenantEntity.TenantView v, boolean withKeys) {
    return new AdminResponses.Tenant(v.tenantId(), v.displayName(), v.pools(), text(v.createdAt()),
        withKeys ? v.keys().stream().map(Tenants::key).toList() : null, quotas(v.quotas()), v.providers());
  }

  static AdminResponses.Key key(TenantEntity.KeyInfo k) {
    return new AdminResponses.Key(k.keyId(), Role.ofStored(k.role()).wireName(), k.active(), text(k.issuedAt()), text(k.revokedAt()));
  }

  static AdminResponses.Quotas quotas(TenantEntity.Quotas q) {
    // Job limits the tenant overrides; null: the node's dalang.jobs default holds.
    JobLimits jobs = q.jobs() == null ? JobLimits.DEFAULTS : q.jobs();
    return new AdminResponses.Quotas(q.requestsPerMinute(), q.tokensPerDay(), q.concurrentJobs(), q.queuedJobs(), jobs.pendingJobs(),
        jobs.pendingBytes(), jobs.submissionsPerMinute(), null);
  }

  static String text(Instant t) {
    return t == null ? null : t.toString();
  }
}
