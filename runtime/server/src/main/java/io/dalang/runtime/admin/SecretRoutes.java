package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.actor;
import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.managesTenant;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;

import io.dalang.actors.secrets.SecretEntity;
import io.dalang.actors.secrets.SecretValue;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * A tenant's secrets under {@code /admin/v1/tenants/{id}/secrets}: values go in, never out (internal
 * consumers read them through {@link SecretsClient}, which audits each read).
 *
 * <pre>
 * secret.write, secret.delete   platform-admin; tenant-admin of the tenant
 * secret.list                   platform-admin, operator; tenant-admin of the tenant
 * secret.rotate                 platform-admin (re-wraps every version under the newest master key)
 * </pre>
 */
final class SecretRoutes extends AllDirectives implements AdminRoute {
  /** The longest value a secret may have. */
  static final int MAX_VALUE = 65_536;

  private final AdminDirectives admin;
  private final Tenants tenants;
  private final SecretsClient secrets;

  SecretRoutes(AdminDirectives admin, Tenants tenants, SecretsClient secrets) {
    this.admin = admin;
    this.tenants = tenants;
    this.secrets = secrets;
  }

  @Override
  public Route route(Principal p) {
    return pathPrefix(PathMatchers.segment("tenants").slash(PathMatchers.segment()).slash("secrets"), tenant -> concat(
        pathEnd(() -> get(() -> parameterOptional("namespace", ns -> completeWithFuture(list(p, tenant, ns.orElse(null)))))),
        path("rotate", () -> post(() -> completeWithFuture(rotate(p, tenant)))),
        path(PathMatchers.segment().slash(PathMatchers.segment()), (ns, name) -> concat(
            put(() -> admin.body(b -> completeWithFuture(put(p, tenant, ns, name, b)))),
            delete(() -> completeWithFuture(delete(p, tenant, ns, name)))))));
  }

  private void allowSecrets(Principal p, String action, String tenant, String target, boolean write) {
    boolean reader = p.role() == Role.OPERATOR && !write;
    admin.allow(p, action, tenant, target, managesTenant(p, tenant) || reader,
        write ? "platform-admin, or tenant-admin of tenant " + tenant : "platform-admin, operator, or tenant-admin of tenant " + tenant);
  }

  private CompletionStage<HttpResponse> put(Principal p, String tenant, String ns, String name, byte[] body) {
    allowSecrets(p, "secret.write", tenant, ns + "/" + name, true);
    var req = Json.parseStrict(body, AdminRequests.PutSecret.class);
    if (req.value() == null || req.value().isEmpty()) throw AdminValidation.invalid("value", "'value' is required and must not be empty");
    if (req.value().length() > MAX_VALUE) throw AdminValidation.invalid("value", "'value' must be at most " + MAX_VALUE + " characters");
    var value = SecretValue.of(req.value());
    return tenants.existing(tenant).thenCompose(t -> secrets.put(tenant, ns, name, value, actor(p))).thenApply(v -> {
      value.destroy();
      return json(StatusCodes.OK, new AdminResponses.SecretStored(ns, name, v.version(), v.keyId(), v.createdAt().toString()));
    });
  }

  private CompletionStage<HttpResponse> list(Principal p, String tenant, String ns) {
    allowSecrets(p, "secret.list", tenant, ns == null ? "" : ns, false);
    return tenants.existing(tenant).thenCompose(t -> secrets.list(tenant, ns, actor(p)))
        .thenApply(list -> json(StatusCodes.OK, new AdminResponses.Secrets(list.stream().map(SecretRoutes::secret).toList())));
  }

  private static AdminResponses.Secret secret(SecretEntity.SecretInfo i) {
    return new AdminResponses.Secret(i.namespace(), i.name(),
        i.versions().stream().map(v -> new AdminResponses.SecretVersion(v.version(), v.keyId(), v.createdAt().toString())).toList());
  }

  private CompletionStage<HttpResponse> delete(Principal p, String tenant, String ns, String name) {
    allowSecrets(p, "secret.delete", tenant, ns + "/" + name, true);
    return tenants.existing(tenant).thenCompose(t -> secrets.delete(tenant, ns, name, actor(p)))
        .thenApply(n -> json(StatusCodes.OK, new AdminResponses.SecretDeleted(ns, name, n)));
  }

  private CompletionStage<HttpResponse> rotate(Principal p, String tenant) {
    admin.allow(p, "secret.rotate", tenant, tenant, platformAdmin(p), "platform-admin");
    return tenants.existing(tenant).thenCompose(t -> secrets.rotateMasterKey(tenant, actor(p))).thenApply(r -> {
      if (r.error() != null) throw r.error().toException();
      return json(StatusCodes.OK, new AdminResponses.SecretsRotated(r.rewrapped(), r.alreadyCurrent(), r.keyId()));
    });
  }
}
