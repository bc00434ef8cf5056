package io.dalang.runtime.admin;

import io.dalang.actors.audit.AuditGate;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.AuthDenied;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.ClientAddress;
import io.dalang.runtime.http.ErrorMapper;
import io.dalang.runtime.http.Json;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * What every admin route shares: authentication, the audit gate in front of every change, the access
 * check that audits its denials, the raw body that routes read strictly ({@link Json#parseStrict}), and
 * the JSON answer.
 */
final class AdminDirectives extends AllDirectives {
  private final Authenticator auth;
  private final AuditSink audit;
  private final AuditGate gate;

  AdminDirectives(Authenticator auth, AuditSink audit, AuditGate gate) {
    this.auth = auth;
    this.audit = audit;
    this.gate = gate;
  }

  /**
   * Authenticates, then lets a change (any method but GET and HEAD) through only if the audit ledger can
   * take its record now: when it cannot, {@code 503 audit_unavailable} before anything is looked up or done.
   * A failed authentication of a known key (revoked, its tenant gone) is audited as a denied operation;
   * anonymous failures (no key, an unknown key, too many failures) are counted by the authenticator, not
   * audited: a flood of guesses must not fill the ledger.
   */
  Route authenticated(Function<Principal, Route> inner) {
    return extractMethod(method -> extractRequest(request -> optionalHeaderValueByName("Authorization", h -> onSuccess(
        auth.authenticate(h, ClientAddress.of(request)).exceptionally(t -> {
          var e = ErrorMapper.toError(t);
          Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
          if (c instanceof AuthDenied d && d.knownKey()) {
            audit.record(Role.PLATFORM_TENANT.equals(d.tenantId()) ? "" : d.tenantId(), d.keyId(), "admin." + method.name().toLowerCase(Locale.ROOT),
                request.getUri().path(), "denied", e.message() + " (" + d.reason() + ")", Map.of());
          }
          throw e.toException();
        }), p -> method.equals(HttpMethods.GET) || method.equals(HttpMethods.HEAD)
            ? inner.apply(p)
            : onSuccess(gate.admit(), admitted -> inner.apply(p))))));
  }

  /** The request body as it came; each route parses it strictly where its checks say. */
  Route body(Function<byte[], Route> inner) {
    return entity(Unmarshaller.entityToByteString(), bs -> inner.apply(bs.toArray()));
  }

  /**
   * Lets the call through if {@code allowed}; else audits the denial and answers {@code 403
   * permission_denied} saying which roles would do ({@code who}).
   */
  void allow(Principal p, String action, String tenant, String target, boolean allowed, String who) {
    if (allowed) return;
    String reason = p.describe() + " may not " + action + (tenant.isEmpty() ? "" : " on tenant " + tenant) + "; needs " + who;
    // Recorded under the caller's tenant, so its own admins see what its keys were refused.
    audit.record(p.role().platform() ? "" : p.tenantId(), p.keyId(), "access.denied", target, "denied", reason,
        Map.of("attempted", action, "role", p.role().wireName(), "on_tenant", tenant));
    throw new DalangException(ErrorCode.PERMISSION_DENIED, reason);
  }

  static boolean platformAdmin(Principal p) {
    return p.role() == Role.PLATFORM_ADMIN;
  }

  /** Platform-admin or operator: the platform roles that read. */
  static boolean platformReader(Principal p) {
    return p.role() == Role.PLATFORM_ADMIN || p.role() == Role.OPERATOR;
  }

  /** Platform-admin, operator or any key of {@code tenant}. */
  static boolean readsTenant(Principal p, String tenant) {
    return platformReader(p) || p.ownTenant(tenant);
  }

  /** Platform-admin, or tenant-admin of {@code tenant}. */
  static boolean managesTenant(Principal p, String tenant) {
    return platformAdmin(p) || (p.role() == Role.TENANT_ADMIN && p.ownTenant(tenant));
  }

  /** Who did it, as the secrets' own audit names them. */
  static String actor(Principal p) {
    return "key:" + p.keyId();
  }

  static HttpResponse json(StatusCode status, Object body) {
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON, Json.bytes(body));
  }
}
