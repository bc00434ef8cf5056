package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;
import static io.dalang.runtime.admin.AdminDirectives.readsTenant;

import io.dalang.actors.jobs.JobLimits;
import io.dalang.actors.quota.TenantUsage;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A tenant's quotas: {@code GET /admin/v1/tenants/{id}/quotas} (the limits and the use now) and
 * {@code PUT} (set them).
 *
 * <pre>
 * quota.set    platform-admin
 * quota.read   platform-admin, operator, the tenant's own keys
 * </pre>
 */
final class QuotaRoutes extends AllDirectives implements AdminRoute {
  private final AdminDirectives admin;
  private final Tenants tenants;
  private final ClusterSharding sharding;
  private final Authenticator auth;
  private final AuditSink audit;

  /** @param auth its cached principals carry the quotas, and are dropped when they change */
  QuotaRoutes(ActorSystem<?> system, AdminDirectives admin, Tenants tenants, Authenticator auth, AuditSink audit) {
    this.admin = admin;
    this.tenants = tenants;
    this.sharding = ClusterSharding.get(system);
    this.auth = auth;
    this.audit = audit;
  }

  @Override
  public Route route(Principal p) {
    return path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("quotas"), tenant -> concat(
        get(() -> completeWithFuture(read(p, tenant))),
        put(() -> admin.body(b -> completeWithFuture(set(p, tenant, b))))));
  }

  private CompletionStage<HttpResponse> set(Principal p, String tenant, byte[] body) {
    admin.allow(p, "quota.set", tenant, tenant, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.SetQuotas.class);
    var q = new TenantEntity.Quotas(
        AdminValidation.range("requests_per_minute", req.requestsPerMinute(), AdminValidation.MAX_REQUESTS_PER_MINUTE),
        AdminValidation.range("tokens_per_day", req.tokensPerDay(), AdminValidation.MAX_TOKENS_PER_DAY),
        (int) AdminValidation.range("concurrent_jobs", req.concurrentJobs() == null ? null : req.concurrentJobs().longValue(), AdminValidation.MAX_JOBS),
        (int) AdminValidation.range("queued_jobs", req.queuedJobs() == null ? null : req.queuedJobs().longValue(), AdminValidation.MAX_JOBS),
        new JobLimits(AdminValidation.optionalRange("pending_jobs", req.pendingJobs(), AdminValidation.MAX_JOBS),
            AdminValidation.optionalRange("pending_job_bytes", req.pendingJobBytes(), AdminValidation.MAX_JOB_BYTES),
            AdminValidation.optionalRange("job_submissions_per_minute", req.jobSubmissionsPerMinute(), AdminValidation.MAX_REQUESTS_PER_MINUTE)));
    return tenants.change(tenant, r -> new TenantEntity.SetQuotas(q, r)).thenApply(v -> {
      auth.invalidateAll(); // principals carry the quotas
      audit.record(tenant, p.keyId(), "quota.set", tenant, "ok", "", Map.of("requests_per_minute", "" + q.requestsPerMinute(),
          "tokens_per_day", "" + q.tokensPerDay(), "concurrent_jobs", "" + q.concurrentJobs(), "queued_jobs", "" + q.queuedJobs(),
          "jobs", "" + q.jobs()));
      return json(StatusCodes.OK, Tenants.quotas(v.quotas()));
    });
  }

  private CompletionStage<HttpResponse> read(Principal p, String tenant) {
    admin.allow(p, "quota.read", tenant, tenant, readsTenant(p, tenant), "platform-admin, operator or a key of tenant " + tenant);
    return tenants.existing(tenant).thenCompose(v -> usage(tenant)
        .thenApply(u -> json(StatusCodes.OK, Tenants.quotas(v.quotas()).withUsage(u))));
  }

  /** The tenant's quota counters now and when they reset. */
  private CompletionStage<AdminResponses.QuotaUsage> usage(String tenant) {
    return sharding.entityRefFor(TenantUsage.ENTITY_KEY, tenant).<TenantUsage.Usage>ask(TenantUsage.GetUsage::new, tenants.timeout())
        .thenApply(u -> new AdminResponses.QuotaUsage(u.requestsThisMinute(), u.minuteResetsAt().toString(), u.tokensToday(),
            u.dayResetsAt().toString(), u.inFlight()));
  }
}
