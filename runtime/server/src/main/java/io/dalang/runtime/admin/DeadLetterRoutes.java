package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;

import io.dalang.actors.jobs.JobView;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.JobJson;
import io.dalang.runtime.jobs.JobService;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The dead-letter queue under {@code /admin/v1/dlq}: list, read and replay dead-lettered durable jobs.
 * Platform-admin and operator for every tenant, tenant-admin for its own. Every replay is audited.
 */
final class DeadLetterRoutes extends AllDirectives implements AdminRoute {
  private static final String JOB_ROLES = "platform-admin, operator, or tenant-admin of the job's tenant";

  private final AdminDirectives admin;
  private final JobService jobs;
  private final AuditSink audit;

  DeadLetterRoutes(AdminDirectives admin, JobService jobs, AuditSink audit) {
    this.admin = admin;
    this.jobs = jobs;
    this.audit = audit;
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path("dlq", () -> get(() -> parameterOptional("tenant", t -> parameterOptional("limit", l -> parameterOptional("cursor", c ->
            completeWithFuture(page(p, t.orElse(null), l.orElse(null), c.orElse(null)))))))),
        path(PathMatchers.segment("dlq").slash("replay"), () -> post(() -> parameterOptional("tenant", t ->
            parameterOptional("replay_id", r -> completeWithFuture(replayAll(p, t.orElse(null), r.orElse(null))))))),
        path(PathMatchers.segment("dlq").slash(PathMatchers.segment()), jobId -> get(() -> completeWithFuture(read(p, jobId)))),
        path(PathMatchers.segment("dlq").slash(PathMatchers.segment()).slash("replay"), jobId -> post(() ->
            parameterOptional("replay_id", r -> completeWithFuture(replay(p, jobId, r.orElse(null)))))));
  }

  private static boolean managesJobs(Principal p, String tenant) {
    return AdminDirectives.platformReader(p) || (p.role() == Role.TENANT_ADMIN && p.ownTenant(tenant));
  }

  /** A page of the queue: {@code limit} 1 to 500 (default 100), {@code cursor} the previous page's {@code next_cursor}. */
  private CompletionStage<HttpResponse> page(Principal p, String tenant, String limit, String cursor) {
    String scope = tenant != null ? tenant : p.role() == Role.TENANT_ADMIN ? p.tenantId() : null;
    admin.allow(p, "dlq.read", scope == null ? "" : scope, "dlq", scope == null ? p.role().platform() : managesJobs(p, scope), JOB_ROLES);
    int n = (int) number("limit", limit, 100, 1, JobService.MAX_DLQ_PAGE);
    long after = number("cursor", cursor, 0, 0, Long.MAX_VALUE);
    return jobs.deadLetterPage(scope, after, n).thenApply(page -> json(StatusCodes.OK, new AdminResponses.DeadLetters(
        page.jobs().stream().map(v -> JobJson.full(v, true)).toList(), page.next() == null ? null : page.next().toString())));
  }

  private static long number(String field, String value, long dflt, long min, long max) {
    if (value == null) return dflt;
    try {
      long v = Long.parseLong(value);
      if (v >= min && v <= max) return v;
    } catch (NumberFormatException e) {
      // answered below
    }
    throw AdminValidation.invalid(field, "'" + field + "' must be a whole number from " + min + " to " + max);
  }

  private CompletionStage<HttpResponse> read(Principal p, String jobId) {
    return jobs.view(jobId).thenApply(v -> {
      admin.allow(p, "dlq.read", v.job().tenantId(), jobId, managesJobs(p, v.job().tenantId()), JOB_ROLES);
      return json(StatusCodes.OK, JobJson.full(v, true));
    });
  }

  /** Replays one job; {@code replayId} (default: a new one) makes a repeated request a no-op. Audited either way. */
  private CompletionStage<HttpResponse> replay(Principal p, String jobId, String replayId) {
    String id = replayId(replayId);
    return jobs.view(jobId).thenCompose(v -> {
      admin.allow(p, "job.replay", v.job().tenantId(), jobId, managesJobs(p, v.job().tenantId()), JOB_ROLES);
      return replayed(p, v, id).thenApply(r -> {
        if (JobView.DEAD_LETTERED.equals(v.state()) && !v.job().request().hasBody()) throw new DalangException(ErrorCode.GONE, r.note());
        return r;
      });
    }).thenApply(r -> json(StatusCodes.OK, r));
  }

  /** Replays every dead-lettered job of {@code tenant}, one audit event per job. */
  private CompletionStage<HttpResponse> replayAll(Principal p, String tenant, String replayId) {
    if (tenant == null || tenant.isBlank()) throw AdminValidation.invalid("tenant", "'tenant' is required: replay all dead-lettered jobs of which tenant?");
    admin.allow(p, "job.replay", tenant, "dlq", managesJobs(p, tenant), JOB_ROLES);
    String id = replayId(replayId);
    return jobs.deadLettered(tenant).thenCompose(list -> {
      CompletableFuture<List<AdminResponses.Replay>> all = CompletableFuture.completedFuture(new ArrayList<>());
      for (var v : list) all = all.thenCompose(acc -> replayed(p, v, id).thenApply(r -> {
        acc.add(r);
        return acc;
      }));
      return all;
    }).thenApply(results -> json(StatusCodes.OK, new AdminResponses.Replays(tenant, id, results)));
  }

  private CompletionStage<AdminResponses.Replay> replayed(Principal p, JobView v, String replayId) {
    return jobs.replay(v.jobId(), replayId, p.keyId()).thenApply(r -> {
      audit.record(v.job().tenantId(), p.keyId(), "job.replay", v.jobId(), "ok", "", Map.of("replay_id", replayId,
          "result", r.replayed() ? "replayed" : "no-op", "state", r.job().state(), "attempts", Integer.toString(r.job().attempts().size())));
      return new AdminResponses.Replay(v.jobId(), r.replayed(), r.note(), r.job().state(), replayId);
    });
  }

  private static String replayId(String given) {
    if (given == null) return "replay_" + UUID.randomUUID().toString().replace("-", "");
    return AdminValidation.id("replay_id", given);
  }
}
