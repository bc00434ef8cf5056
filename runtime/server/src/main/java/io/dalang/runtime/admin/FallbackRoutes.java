package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.managesTenant;
import static io.dalang.runtime.admin.AdminDirectives.readsTenant;

import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A tenant's fallbacks, {@code GET/PUT /admin/v1/tenants/{id}/fallbacks}: pools of the tenant, then
 * providers by name (docs/security.md, "Outbound connections"); {@link FallbackTargets} reads and writes them.
 *
 * <pre>
 * fallback.set    platform-admin; tenant-admin of the tenant
 * fallback.read   platform-admin, operator, the tenant's own keys
 * </pre>
 */
final class FallbackRoutes extends AllDirectives implements AdminRoute {
  private final AdminDirectives admin;
  private final Tenants tenants;
  private final Function<String, CompletionStage<ProviderEntity.ProviderView>> providers;
  private final Authenticator auth;
  private final AuditSink audit;

  /** @param auth its cached principals carry the fallbacks, and are dropped when they change */
  FallbackRoutes(AdminDirectives admin, Tenants tenants, Function<String, CompletionStage<ProviderEntity.ProviderView>> providers,
      Authenticator auth, AuditSink audit) {
    this.admin = admin;
    this.tenants = tenants;
    this.providers = providers;
    this.auth = auth;
    this.audit = audit;
  }

  @Override
  public Route route(Principal p) {
    return path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("fallbacks"), tenant -> concat(
        get(() -> completeWithFuture(read(p, tenant))),
        put(() -> admin.body(b -> completeWithFuture(set(p, tenant, b))))));
  }

  private CompletionStage<HttpResponse> set(Principal p, String tenant, byte[] body) {
    admin.allow(p, "fallback.set", tenant, tenant, managesTenant(p, tenant), "platform-admin, or tenant-admin of tenant " + tenant);
    var targets = FallbackTargets.parse(Json.parseStrict(body, AdminRequests.SetFallbacks.class));
    // Read first: the pools are checked before the providers are asked, each answer naming its field.
    return tenants.existing(tenant).thenCompose(t -> {
      var foreign = targets.stream().filter(f -> f.isPool() && !t.pools().contains(f.pool())).map(f -> f.pool()).toList();
      if (!foreign.isEmpty()) throw AdminValidation.invalid("targets", "fallback pools " + foreign + " are not pools of tenant " + tenant);
      return FallbackTargets.checkProviders(targets, providers)
          .thenCompose(ok -> tenants.change(tenant, r -> new TenantEntity.SetFallbacks(targets, r)));
    }).thenApply(v -> {
      auth.invalidateAll(); // principals carry the fallbacks
      audit.record(tenant, p.keyId(), "fallback.set", tenant, "ok", "",
          Map.of("targets", String.join(",", v.fallbacks().stream().map(f -> f.label()).toList())));
      return json(StatusCodes.OK, FallbackTargets.body(tenant, v.fallbacks()));
    });
  }

  private CompletionStage<HttpResponse> read(Principal p, String tenant) {
    admin.allow(p, "fallback.read", tenant, tenant, readsTenant(p, tenant), "platform-admin, operator or a key of tenant " + tenant);
    return tenants.existing(tenant).thenApply(v -> json(StatusCodes.OK, FallbackTargets.body(tenant, v.fallbacks())));
  }
}
