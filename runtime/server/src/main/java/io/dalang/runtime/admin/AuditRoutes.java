package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;

import io.dalang.actors.audit.AuditActor;
import io.dalang.actors.audit.AuditEvent;
import io.dalang.actors.audit.AuditExport;
import io.dalang.actors.audit.AuditFilter;
import io.dalang.actors.audit.AuditOutcome;
import io.dalang.actors.audit.AuditStore;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Principal;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.pattern.StatusReply;

/**
 * {@code GET /admin/v1/audit?tenant&actor&action&outcome&since&until&after&limit&format}: platform roles
 * see all, a tenant-admin its own tenant's events. {@code format=json} (default) pages through the ledger
 * writer (at most 1000 per page, next page {@code after=<last seq>}); {@code jsonl} and {@code csv} export
 * the selection with its hashes and roots ({@code dalang audit verify --file}).
 */
final class AuditRoutes extends AllDirectives implements AdminRoute {
  private static final List<String> PARAMETERS = List.of("tenant", "actor", "action", "outcome", "since", "until", "after", "limit", "format");

  private final ActorSystem<?> system;
  private final AdminDirectives admin;
  private final ActorRef<AuditActor.Command> ledger;
  private final AuditStore auditStore;
  private final int auditBlockSize;
  private final Duration timeout;

  /** @param ledger the audit ledger's writer, for pages; {@code auditStore} for exports */
  AuditRoutes(ActorSystem<?> system, AdminDirectives admin, ActorRef<AuditActor.Command> ledger, AuditStore auditStore, int auditBlockSize,
      Duration timeout) {
    this.system = system;
    this.admin = admin;
    this.ledger = ledger;
    this.auditStore = auditStore;
    this.auditBlockSize = auditBlockSize;
    this.timeout = timeout;
  }

  @Override
  public Route route(Principal p) {
    return path("audit", () -> get(() -> parameterMap(q -> completeWithFuture(audit(p, q)))));
  }

  private CompletionStage<HttpResponse> audit(Principal p, Map<String, String> q) {
    for (String k : q.keySet()) {
      if (!PARAMETERS.contains(k)) throw AdminValidation.invalid(k, "unknown query parameter '" + k + "'");
    }
    var filter = AuditFilter.ALL.tenant(q.get("tenant")).actor(q.get("actor")).action(q.get("action"))
        .since(instant("since", q.get("since"))).until(instant("until", q.get("until")));
    if (q.containsKey("outcome")) {
      filter = filter.outcome(Arrays.stream(AuditOutcome.values()).filter(o -> o.name().equalsIgnoreCase(q.get("outcome")))
          .findFirst().orElseThrow(() -> AdminValidation.invalid("outcome", "'outcome' must be ok, denied or failed")));
    }
    if (p.role() == Role.TENANT_ADMIN) {
      var scoped = filter.forTenantAdmin(p.tenantId());
      admin.allow(p, "audit.read", q.getOrDefault("tenant", ""), "audit", scoped.isPresent(), "platform-admin, operator, or tenant-admin of that tenant");
      filter = scoped.get();
    } else {
      admin.allow(p, "audit.read", q.getOrDefault("tenant", ""), "audit", AdminDirectives.platformReader(p),
          "platform-admin, operator or tenant-admin");
    }
    String format = q.getOrDefault("format", "json");
    if (format.equals("jsonl") || format.equals("csv")) return CompletableFuture.completedFuture(export(filter, format));
    if (!format.equals("json")) throw AdminValidation.invalid("format", "'format' must be json, jsonl or csv");
    long after = AdminValidation.range("after", parseLong("after", q.getOrDefault("after", "0")), Long.MAX_VALUE);
    int limit = (int) AdminValidation.range("limit", parseLong("limit", q.getOrDefault("limit", "100")), AuditActor.MAX_PAGE);
    var page = filter.page(after, limit == 0 ? AuditActor.MAX_PAGE : limit);
    return AskPattern.<AuditActor.Command, StatusReply<AuditActor.Events>>ask(ledger,
        to -> new AuditActor.Query(page, to), timeout, system.scheduler()).thenApply(r -> {
          if (r.isError()) throw new DalangException(ErrorCode.ENGINE_UNAVAILABLE, "the audit ledger cannot be read now: " + r.getError().getMessage());
          var events = r.getValue().events();
          return json(StatusCodes.OK, new AdminResponses.AuditPage(events.stream().map(AuditRoutes::event).toList(),
              events.isEmpty() ? null : events.get(events.size() - 1).seq()));
        });
  }

  private HttpResponse export(AuditFilter filter, String format) {
    var fmt = format.equals("csv") ? AuditExport.Format.CSV : AuditExport.Format.JSONL;
    var type = fmt == AuditExport.Format.CSV ? ContentTypes.TEXT_CSV_UTF8 : ContentTypes.TEXT_PLAIN_UTF8;
    return HttpResponse.create().withEntity(AuditExportStream.entity(type, system.dispatchers().lookup(DispatcherSelector.blocking()),
        out -> AuditExport.write(auditStore, filter, auditBlockSize, fmt, out, System.currentTimeMillis())));
  }

  private static AdminResponses.AuditEvent event(AuditEvent e) {
    return new AdminResponses.AuditEvent(e.seq(), Instant.ofEpochMilli(e.timeEpochMs()).toString(), e.tenant(), e.actor(), e.action(),
        e.target(), e.outcome(), e.reason(), e.details(), e.prevHash(), e.hash());
  }

  private static Long instant(String field, String v) {
    if (v == null) return null;
    try {
      return Instant.parse(v).toEpochMilli();
    } catch (DateTimeParseException e) {
      throw AdminValidation.invalid(field, "'" + field + "' must be an ISO-8601 instant like 2026-11-23T00:00:00Z");
    }
  }

  private static Long parseLong(String field, String v) {
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw AdminValidation.invalid(field, "'" + field + "' must be a whole number");
    }
  }
}
