package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.managesTenant;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;

import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * API keys of a tenant ({@code /admin/v1/tenants/{id}/keys}: issue, rotate, revoke) and of the platform
 * ({@code /admin/v1/platform/keys}: issue, revoke). A key is shown once, in the answer that issues it.
 *
 * <pre>
 * key.issue / key.rotate / key.revoke (tenant)  platform-admin; tenant-admin of the tenant (tenant roles only)
 * key.issue / key.revoke (platform)             platform-admin
 * </pre>
 */
final class KeyRoutes extends AllDirectives implements AdminRoute {
  private static final List<Role> TENANT_ROLES = List.of(Role.TENANT_ADMIN, Role.TENANT_USER);
  private static final List<Role> PLATFORM_ROLES = List.of(Role.PLATFORM_ADMIN, Role.OPERATOR);

  private final AdminDirectives admin;
  private final Tenants tenants;
  private final KeyService keys;
  private final Authenticator auth;
  private final AuditSink audit;

  /** @param auth its cached principals are dropped when a key is revoked */
  KeyRoutes(AdminDirectives admin, Tenants tenants, KeyService keys, Authenticator auth, AuditSink audit) {
    this.admin = admin;
    this.tenants = tenants;
    this.keys = keys;
    this.auth = auth;
    this.audit = audit;
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("keys"), tenant ->
            post(() -> admin.body(b -> completeWithFuture(issue(p, tenant, b))))),
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("keys").slash(PathMatchers.segment()).slash("rotate"),
            (tenant, keyId) -> post(() -> admin.body(b -> completeWithFuture(rotate(p, tenant, keyId, b))))),
        path(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("keys").slash(PathMatchers.segment()), (tenant, keyId) ->
            delete(() -> completeWithFuture(revoke(p, tenant, keyId)))),
        path(PathMatchers.segment("platform").slash("keys"), () -> post(() -> admin.body(b -> completeWithFuture(issue(p, Role.PLATFORM_TENANT, b))))),
        path(PathMatchers.segment("platform").slash("keys").slash(PathMatchers.segment()), keyId ->
            delete(() -> completeWithFuture(revoke(p, Role.PLATFORM_TENANT, keyId)))));
  }

  /** Who may manage keys of {@code role} on {@code tenant}. */
  private void allowKeyChange(Principal p, String action, String tenant, String keyId, Role role) {
    allowKeyManager(p, action, tenant, keyId);
    if (role != null && role.platform() != tenant.equals(Role.PLATFORM_TENANT)) {
      throw AdminValidation.invalid("role", "'role' " + role.wireName() + " does not belong to " + (role.platform() ? "a tenant" : "the platform"));
    }
  }

  /**
   * Who may manage keys on {@code tenant} at all. Checked before the tenant or the key is looked up, so
   * a caller without the right learns nothing from the answer: the same 403 whether the tenant or the
   * key exists or not.
   */
  private void allowKeyManager(Principal p, String action, String tenant, String keyId) {
    if (tenant.equals(Role.PLATFORM_TENANT)) {
      admin.allow(p, action, tenant, keyId, platformAdmin(p), "platform-admin");
    } else {
      admin.allow(p, action, tenant, keyId, managesTenant(p, tenant), "platform-admin, or tenant-admin of tenant " + tenant);
    }
  }

  private CompletionStage<HttpResponse> issue(Principal p, String tenant, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.IssueKey.class);
    boolean platform = tenant.equals(Role.PLATFORM_TENANT);
    Role role = Role.parse(req.role()).orElse(null);
    allowKeyChange(p, "key.issue", tenant, req.keyId() == null ? "" : req.keyId(), role);
    String keyId = AdminValidation.id("key_id", req.keyId());
    role = AdminValidation.role("role", req.role(), platform ? PLATFORM_ROLES : TENANT_ROLES);
    if (p.role() == Role.TENANT_ADMIN && !TENANT_ROLES.contains(role)) throw AdminValidation.invalid("role", "a tenant-admin issues tenant roles only");
    return issue(p, tenant, keyId, role, "key.issue", Map.of());
  }

  private CompletionStage<HttpResponse> issue(Principal p, String tenant, String keyId, Role role, String action, Map<String, String> more) {
    String key = KeyService.newKey();
    // Read first: the key's own entity is written before the tenant's list, so a missing tenant or a taken
    // id must be known before anything is written.
    return tenants.existing(tenant).thenCompose(t -> {
      if (t.key(keyId).isPresent()) throw new DalangException(ErrorCode.CONFLICT, "tenant " + tenant + " already has a key with id " + keyId);
      return keys.issue(tenant, keyId, role, key);
    }).thenApply(v -> {
      var details = new LinkedHashMap<String, String>(more);
      details.put("role", role.wireName());
      audit.record(tenant, p.keyId(), action, keyId, "ok", "", details);
      return json(StatusCodes.CREATED, new AdminResponses.IssuedKey(tenant, keyId, role.wireName(), key, AdminResponses.IssuedKey.NOTE));
    });
  }

  private CompletionStage<HttpResponse> rotate(Principal p, String tenant, String keyId, byte[] body) {
    allowKeyManager(p, "key.rotate", tenant, keyId);
    var req = body.length == 0 ? new AdminRequests.RotateKey(null) : Json.parseStrict(body, AdminRequests.RotateKey.class);
    return tenants.existing(tenant).thenCompose(t -> {
      var old = t.key(keyId).orElseThrow(() -> new DalangException(ErrorCode.NOT_FOUND, "tenant " + tenant + " has no key " + keyId));
      Role role = Role.ofStored(old.role());
      allowKeyChange(p, "key.rotate", tenant, keyId, role);
      if (!old.active()) throw new DalangException(ErrorCode.CONFLICT, "key " + keyId + " is revoked; issue a new one instead");
      String newId = req.keyId() != null ? AdminValidation.id("key_id", req.keyId()) : nextId(t, keyId);
      return issue(p, tenant, newId, role, "key.rotate", Map.of("replaces", keyId))
          .thenCompose(resp -> keys.revoke(tenant, keyId).thenApply(v -> {
            auth.invalidateAll();
            audit.record(tenant, p.keyId(), "key.revoke", keyId, "ok", "", Map.of("replaced_by", newId));
            return resp;
          }));
    });
  }

  private static String nextId(TenantEntity.TenantView t, String keyId) {
    String base = keyId.replaceFirst("-r[0-9]+$", "");
    for (int n = 2; ; n++) {
      String candidate = base + "-r" + n;
      if (candidate.length() <= 63 && t.key(candidate).isEmpty()) return candidate;
      if (candidate.length() > 63) throw AdminValidation.invalid("key_id", "name the rotated key: 'key_id' is required for this key");
    }
  }

  private CompletionStage<HttpResponse> revoke(Principal p, String tenant, String keyId) {
    allowKeyManager(p, "key.revoke", tenant, keyId);
    // Read first: who may revoke depends on the key's role.
    return tenants.existing(tenant).thenCompose(t -> {
      var info = t.key(keyId).orElse(null);
      allowKeyChange(p, "key.revoke", tenant, keyId, info == null ? null : Role.ofStored(info.role()));
      if (info == null) throw new DalangException(ErrorCode.NOT_FOUND, "tenant " + tenant + " has no key " + keyId);
      return keys.revoke(tenant, keyId);
    }).thenApply(v -> {
      auth.invalidateAll(); // on this node at once; other nodes within the auth cache TTL
      audit.record(tenant, p.keyId(), "key.revoke", keyId, "ok", "", Map.of());
      return json(StatusCodes.OK, Tenants.key(v.key(keyId).orElseThrow()));
    });
  }
}
