package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;
import static io.dalang.runtime.admin.AdminDirectives.readsTenant;

import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Tenants: {@code POST /admin/v1/tenants}, {@code GET /admin/v1/tenants/{id}} and
 * {@code POST /admin/v1/tenants/{id}/pools} (grant a pool).
 *
 * <pre>
 * tenant.create, pool.grant   platform-admin
 * tenant.read                 platform-admin, operator, the tenant's own keys (a tenant-user without the key list)
 * </pre>
 */
final class TenantRoutes extends AllDirectives implements AdminRoute {
  private final AdminDirectives admin;
  private final Tenants tenants;
  private final Authenticator auth;
  private final AuditSink audit;

  private final java.util.function.Function<String, CompletionStage<io.dalang.actors.provider.ProviderEntity.ProviderView>> providers;

  /**
   * @param auth its cached principals are dropped when a grant changes what the tenant's keys reach
   * @param providers a provider by name: one is granted only if it exists
   */
  TenantRoutes(AdminDirectives admin, Tenants tenants, Authenticator auth, AuditSink audit,
      java.util.function.Function<String, CompletionStage<io.dalang.actors.provider.ProviderEntity.ProviderView>> providers) {
    this.providers = providers;
    this.admin = admin;
    this.tenants = tenants;
    this.auth = auth;
    this.audit = audit;
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path("tenants", () -> post(() -> admin.body(b -> completeWithFuture(create(p, b))))),
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()), tenant -> get(() -> completeWithFuture(read(p, tenant)))),
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("pools"), tenant ->
            post(() -> admin.body(b -> completeWithFuture(grantPool(p, tenant, b))))),
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("providers"), tenant ->
            post(() -> admin.body(b -> completeWithFuture(grantProvider(p, tenant, b))))),
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("providers").slash(PathMatchers.segment()), (tenant, name) ->
            delete(() -> completeWithFuture(revokeProvider(p, tenant, name)))));
  }

  /** A provider the tenant's fallbacks may name from now on; 404 when there is no such provider. */
  private CompletionStage<HttpResponse> grantProvider(Principal p, String tenant, byte[] body) {
    admin.allow(p, "provider.grant", tenant, tenant, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.GrantProvider.class);
    String provider = AdminValidation.id("provider", req.provider());
    return providers.apply(provider).thenCompose(view -> {
      if (!view.exists()) {
        throw new io.dalang.protocols.error.DalangException(io.dalang.protocols.error.ErrorCode.NOT_FOUND, "there is no provider " + provider);
      }
      return tenants.change(tenant, r -> new TenantEntity.GrantProvider(provider, r));
    }).thenApply(v -> {
      audit.record(tenant, p.keyId(), "provider.grant", provider, "ok", "", Map.of());
      return json(StatusCodes.OK, Tenants.body(v, true));
    });
  }

  /** Takes a provider from the tenant, and every fallback target that names it. */
  private CompletionStage<HttpResponse> revokeProvider(Principal p, String tenant, String name) {
    admin.allow(p, "provider.revoke", tenant, tenant, platformAdmin(p), "platform-admin");
    String provider = AdminValidation.id("provider", name);
    return tenants.change(tenant, r -> new TenantEntity.RevokeProvider(provider, r)).thenApply(v -> {
      auth.invalidateAll(); // its keys' cached fallbacks may name the provider
      audit.record(tenant, p.keyId(), "provider.revoke", provider, "ok", "", Map.of());
      return json(StatusCodes.OK, Tenants.body(v, true));
    });
  }

  private CompletionStage<HttpResponse> create(Principal p, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.CreateTenant.class);
    admin.allow(p, "tenant.create", "", req.id() == null ? "" : req.id(), platformAdmin(p), "platform-admin");
    String id = AdminValidation.tenantId("id", req.id());
    String name = AdminValidation.displayName("display_name", req.displayName());
    List<String> pools = AdminValidation.ids("pools", req.pools());
    // An existing tenant refuses: 409 conflict.
    return tenants.ref(id).<TenantEntity.TenantView>askWithStatus(r -> new TenantEntity.CreateTenant(name, pools, r), tenants.timeout())
        .thenApply(v -> {
          audit.record(id, p.keyId(), "tenant.create", id, "ok", "", Map.of("display_name", name, "pools", String.join(",", pools)));
          return json(StatusCodes.CREATED, Tenants.body(v, true));
        });
  }

  private CompletionStage<HttpResponse> read(Principal p, String tenant) {
    admin.allow(p, "tenant.read", tenant, tenant, readsTenant(p, tenant), "platform-admin, operator or a key of tenant " + tenant);
    return tenants.existing(tenant).thenApply(v -> json(StatusCodes.OK, Tenants.body(v, p.role() != Role.TENANT_USER)));
  }

  private CompletionStage<HttpResponse> grantPool(Principal p, String tenant, byte[] body) {
    admin.allow(p, "pool.grant", tenant, tenant, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.GrantPool.class);
    String pool = AdminValidation.id("pool", req.pool());
    return tenants.change(tenant, r -> new TenantEntity.GrantPool(pool, r)).thenApply(v -> {
      auth.invalidateAll(); // the tenant's keys now reach the pool's models
      audit.record(tenant, p.keyId(), "pool.grant", pool, "ok", "", Map.of());
      return json(StatusCodes.OK, Tenants.body(v, true));
    });
  }
}
