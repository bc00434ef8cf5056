package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformReader;

import io.dalang.actors.placement.PlacementActor;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.SlotViews;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code GET /admin/v1/fleet}: every slot placement knows of, and every GPU node's model cache with the
 * pulls under way, for platform-admin and operator.
 */
final class FleetRoutes extends AllDirectives implements AdminRoute {
  private final ActorSystem<?> system;
  private final AdminDirectives admin;
  private final ActorRef<PlacementActor.Command> placement;
  private final Duration timeout;

  FleetRoutes(ActorSystem<?> system, AdminDirectives admin, ActorRef<PlacementActor.Command> placement, Duration timeout) {
    this.system = system;
    this.admin = admin;
    this.placement = placement;
    this.timeout = timeout;
  }

  @Override
  public Route route(Principal p) {
    return path("fleet", () -> get(() -> completeWithFuture(fleet(p))));
  }

  private CompletionStage<HttpResponse> fleet(Principal p) {
    admin.allow(p, "fleet.read", "", "fleet", platformReader(p), "platform-admin or operator");
    var caches = io.dalang.actors.model.ModelCacheAgent.all(system, timeout);
    return AskPattern.<PlacementActor.Command, PlacementActor.Fleet>ask(placement, PlacementActor.GetFleet::new, timeout, system.scheduler())
        .thenCombine(caches, (f, c) -> json(StatusCodes.OK, new AdminResponses.Fleet(f.slots().stream().map(SlotViews::fleet).toList(),
            c.stream().map(ModelCaches::body).toList())));
  }
}
