package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;
import static io.dalang.runtime.admin.AdminDirectives.platformReader;

import io.dalang.engine.chaos.Chaos;
import io.dalang.engine.chaos.ChaosPlan;
import io.dalang.engine.chaos.Fault;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.util.Map;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * {@code /admin/v1/chaos}: the fault-injection plan of this node's engines (docs/operations.md, "Chaos drills").
 *
 * <pre>
 * chaos.read               platform-admin, operator
 * chaos.set, chaos.clear   platform-admin
 * </pre>
 */
final class ChaosRoutes extends AllDirectives implements AdminRoute {
  private final AdminDirectives admin;
  private final Chaos chaos;
  private final AuditSink audit;

  ChaosRoutes(AdminDirectives admin, Chaos chaos, AuditSink audit) {
    this.admin = admin;
    this.chaos = chaos;
    this.audit = audit;
  }

  @Override
  public Route route(Principal p) {
    return path("chaos", () -> concat(
        get(() -> complete(status(p))),
        post(() -> admin.body(b -> complete(set(p, b)))),
        delete(() -> complete(clear(p)))));
  }

  private HttpResponse status(Principal p) {
    admin.allow(p, "chaos.read", "", "chaos", platformReader(p), "platform-admin or operator");
    return json(StatusCodes.OK, chaos.describe());
  }

  private HttpResponse set(Principal p, byte[] body) {
    admin.allow(p, "chaos.set", "", "chaos", platformAdmin(p), "platform-admin");
    @SuppressWarnings("unchecked")
    Map<String, Object> definition = Json.parseStrict(body, Map.class);
    var plan = ChaosPlan.parse(definition);
    chaos.apply(plan, "admin API, key " + p.keyId());
    audit.record("", p.keyId(), "chaos.set", "chaos", "ok", "", Map.of("seed", Long.toString(plan.seed()),
        "faults", Json.MAPPER.valueToTree(plan.faults().stream().map(Fault::describe).toList()).toString()));
    return json(StatusCodes.OK, chaos.describe());
  }

  private HttpResponse clear(Principal p) {
    admin.allow(p, "chaos.clear", "", "chaos", platformAdmin(p), "platform-admin");
    chaos.clear("admin API, key " + p.keyId());
    audit.record("", p.keyId(), "chaos.clear", "chaos", "ok", "", Map.of());
    return json(StatusCodes.OK, chaos.describe());
  }
}
