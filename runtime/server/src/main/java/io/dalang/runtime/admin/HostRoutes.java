package io.dalang.runtime.admin;

import com.typesafe.config.Config;
import io.dalang.actors.audit.AuditStore;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.serve.EmbeddedJournal;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * What CLI commands read from the journal while a node holds it (the embedded journal has no server
 * for a second process): {@code GET /admin/v1/journal} (entities and events per type, for
 * {@code dalang status}) and {@code GET /admin/v1/audit/verify} (the chain walk of
 * {@code dalang audit verify}). Platform-admin or operator.
 */
final class HostRoutes extends AllDirectives implements AdminRoute {
  private final Config database;
  private final AuditStore auditStore;
  private final int auditBlockSize;
  private final AdminDirectives admin;
  private final Executor blocking;

  HostRoutes(ActorSystem<?> system, AdminDirectives admin, AuditStore auditStore, int auditBlockSize) {
    this.database = system.settings().config();
    this.auditStore = auditStore;
    this.auditBlockSize = auditBlockSize;
    this.admin = admin;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path("journal", () -> get(() -> completeWithFuture(journal(p)))),
        path(PathMatchers.segment("audit").slash("verify"), () -> get(() -> completeWithFuture(verify(p)))));
  }

  private void allowReader(Principal p, String action) {
    admin.allow(p, action, "", action, AdminDirectives.platformReader(p), "platform-admin or operator");
  }

  private CompletionStage<HttpResponse> journal(Principal p) {
    allowReader(p, "journal.read");
    return CompletableFuture.supplyAsync(() -> {
      try (var c = EmbeddedJournal.connect(database)) {
        return AdminDirectives.json(StatusCodes.OK, Map.of("types", JournalCounts.read(c)));
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the journal: " + e.getMessage(), e);
      }
    }, blocking);
  }

  private CompletionStage<HttpResponse> verify(Principal p) {
    allowReader(p, "audit.verify");
    return CompletableFuture.supplyAsync(() -> AdminDirectives.json(StatusCodes.OK, auditStore.verify(auditBlockSize)), blocking);
  }
}
