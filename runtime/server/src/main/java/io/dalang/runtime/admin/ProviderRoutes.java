package io.dalang.runtime.admin;

import static io.dalang.runtime.admin.AdminDirectives.actor;
import static io.dalang.runtime.admin.AdminDirectives.json;
import static io.dalang.runtime.admin.AdminDirectives.platformAdmin;
import static io.dalang.runtime.admin.AdminDirectives.platformReader;

import io.dalang.actors.audit.AuditAction;
import io.dalang.actors.pool.ReplicaReconciler;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.actors.provider.ProviderSpec;
import io.dalang.actors.secrets.SecretValue;
import io.dalang.actors.secrets.SecretsClient;
import io.dalang.engine.RemoteOpenAiEndpoint;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * Providers under {@code /admin/v1/providers}: the remote OpenAI-compatible endpoints that tenants may
 * name as fallbacks. A provider's key is given with it ({@code api_key}), stored as the platform's secret
 * {@code providers/<name>} and pinned by version; it is never shown, and it is sent only to the origin
 * (scheme, host, port) it was given for: moving a provider to another host needs its key again.
 *
 * <pre>
 * provider.create, provider.update, provider.delete   platform-admin (audited, allow_private included)
 * provider.read                                       platform-admin, operator
 * </pre>
 *
 * <p>The base URL's host must resolve, and only to public addresses unless {@code allow_private} is true;
 * every connection checks it again ({@code RemoteSseCall}).
 */
final class ProviderRoutes extends AllDirectives implements AdminRoute {
  /** The longest key a provider may have. */
  static final int MAX_KEY = 8192;
  /** The highest price per million tokens taken: far above any real one, low enough to add up safely. */
  static final double MAX_PRICE = 1_000_000;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final AuditSink audit;
  private final AdminDirectives admin;
  private final SecretsClient secrets;
  private final Executor blocking;

  /** @param secrets where a provider's key is kept, as the platform's secret {@code providers/<name>} */
  ProviderRoutes(ActorSystem<?> system, AdminDirectives admin, Duration timeout, AuditSink audit, SecretsClient secrets) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.audit = audit;
    this.admin = admin;
    this.secrets = secrets;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  private Function<String, CompletionStage<ProviderEntity.ProviderView>> lookup() {
    return ProviderEntity.lookup(system, timeout);
  }

  @Override
  public Route route(Principal p) {
    return concat(
        path("providers", () -> concat(
            post(() -> admin.body(b -> completeWithFuture(create(p, b)))),
            get(() -> completeWithFuture(list(p))))),
        path(PathMatchers.segment("providers").slash(PathMatchers.segment()), name -> concat(
            get(() -> completeWithFuture(read(p, name))),
            patch(() -> admin.body(b -> completeWithFuture(update(p, name, b)))),
            delete(() -> completeWithFuture(delete(p, name))))));
  }

  private void allowRead(Principal p, String target) {
    admin.allow(p, "provider.read", "", target, platformReader(p), "platform-admin or operator");
  }

  private CompletionStage<HttpResponse> create(Principal p, byte[] body) {
    var req = Json.parseStrict(body, AdminRequests.CreateProvider.class);
    admin.allow(p, "provider.create", "", req.name() == null ? "" : req.name(), platformAdmin(p), "platform-admin");
    String name = AdminValidation.id("name", req.name());
    String baseUrl = baseUrl(req.baseUrl());
    List<String> models = models(req.models());
    String key = key(req.apiKey());
    double in = price("input_price_per_mtok", req.inputPricePerMTok());
    double out = price("output_price_per_mtok", req.outputPricePerMTok());
    boolean allowPrivate = Boolean.TRUE.equals(req.allowPrivate());
    var ref = sharding.entityRefFor(ProviderEntity.ENTITY_KEY, name);
    return reachable(baseUrl, allowPrivate)
        .thenCompose(x -> lookup().apply(name))
        .thenCompose(existing -> {
          // Read first: the key is stored before the provider, and a provider that exists keeps its key.
          if (existing.exists()) throw new DalangException(ErrorCode.CONFLICT, "provider " + name + " already exists");
          return storeKey(p, name, key);
        })
        .thenCompose(version -> ref.<ProviderEntity.ProviderView>askWithStatus(r -> new ProviderEntity.CreateProvider(
            new ProviderSpec(baseUrl, models, version, version > 0 ? RemoteOpenAiEndpoint.origin(baseUrl) : null, in, out, allowPrivate), r),
            timeout))
        .thenApply(v -> {
          audit.record("", p.keyId(), AuditAction.PROVIDER_CREATE, name, "ok", "", details(v.spec()));
          return json(StatusCodes.CREATED, body(v));
        });
  }

  private CompletionStage<HttpResponse> update(Principal p, String name, byte[] body) {
    admin.allow(p, "provider.update", "", name, platformAdmin(p), "platform-admin");
    var req = Json.parseStrict(body, AdminRequests.UpdateProvider.class);
    String newUrl = req.baseUrl() == null ? null : baseUrl(req.baseUrl());
    List<String> newModels = req.models() == null ? null : models(req.models());
    String key = key(req.apiKey());
    Double in = req.inputPricePerMTok() == null ? null : price("input_price_per_mtok", req.inputPricePerMTok());
    Double out = req.outputPricePerMTok() == null ? null : price("output_price_per_mtok", req.outputPricePerMTok());
    return existing(name).thenCompose(v -> {
      var old = v.spec();
      String url = newUrl != null ? newUrl : old.baseUrl();
      boolean allowPrivate = req.allowPrivate() != null ? req.allowPrivate() : old.allowPrivate();
      // The key is bound to the origin it was given for: a provider moving elsewhere needs the key for there.
      if (key == null && old.hasKey() && !RemoteOpenAiEndpoint.origin(url).equals(old.keyOrigin())) {
        throw AdminValidation.invalid("api_key", "'api_key' is required to move provider " + name + " to another host: its key was given for "
            + old.keyOrigin());
      }
      return reachable(url, allowPrivate).thenCompose(x -> storeKey(p, name, key)).thenCompose(version -> {
        var spec = new ProviderSpec(url, newModels != null ? newModels : old.models(), version > 0 ? version : old.keyVersion(),
            version > 0 ? RemoteOpenAiEndpoint.origin(url) : old.keyOrigin(), in != null ? in : old.inputPricePerMTokens(),
            out != null ? out : old.outputPricePerMTokens(), allowPrivate);
        return sharding.entityRefFor(ProviderEntity.ENTITY_KEY, name)
            .<ProviderEntity.ProviderView>askWithStatus(r -> new ProviderEntity.UpdateProvider(spec, r), timeout);
      });
    }).thenApply(v -> {
      var details = details(v.spec());
      details.put("key_changed", Boolean.toString(key != null));
      audit.record("", p.keyId(), AuditAction.PROVIDER_UPDATE, name, "ok", "", details);
      return json(StatusCodes.OK, body(v));
    });
  }

  private CompletionStage<HttpResponse> delete(Principal p, String name) {
    admin.allow(p, "provider.delete", "", name, platformAdmin(p), "platform-admin");
    // A provider that does not exist refuses: 404 not_found.
    return known(name)
        .thenCompose(x -> sharding.entityRefFor(ProviderEntity.ENTITY_KEY, name)
            .<ProviderEntity.ProviderView>askWithStatus(ProviderEntity.DeleteProvider::new, timeout))
        .thenCompose(v -> (v.spec().hasKey() ? secrets.delete(Role.PLATFORM_TENANT, ProviderEntity.SECRET_NAMESPACE, name, actor(p))
            : CompletableFuture.completedFuture(0)).thenApply(n -> {
              audit.record("", p.keyId(), AuditAction.PROVIDER_DELETE, name, "ok", "", Map.of("key_versions_deleted", Integer.toString(n)));
              return json(StatusCodes.OK, new AdminResponses.ProviderDeleted(name, true));
            }));
  }

  private CompletionStage<HttpResponse> list(Principal p) {
    allowRead(p, "providers");
    return ReplicaReconciler.journalIds(system, ProviderEntity.ENTITY_KEY.name()).thenCompose(ids -> {
      var views = ids.stream().sorted().map(id -> lookup().apply(id).toCompletableFuture()).toList();
      return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(d -> json(StatusCodes.OK, new AdminResponses.Providers(
          views.stream().map(CompletableFuture::join).filter(ProviderEntity.ProviderView::exists).map(ProviderRoutes::body).toList())));
    });
  }

  private CompletionStage<HttpResponse> read(Principal p, String name) {
    allowRead(p, name);
    return existing(name).thenApply(v -> json(StatusCodes.OK, body(v)));
  }

  /** Fails with a {@code 404} for a name no provider can have, which is not looked up. */
  private static CompletionStage<Void> known(String name) {
    if (AdminValidation.ID.matcher(name).matches()) return CompletableFuture.completedFuture(null);
    return CompletableFuture.failedFuture(new DalangException(ErrorCode.NOT_FOUND, "provider " + name + " does not exist"));
  }

  private CompletionStage<ProviderEntity.ProviderView> existing(String name) {
    return known(name).thenCompose(x -> lookup().apply(name)).thenApply(v -> {
      if (!v.exists()) throw new DalangException(ErrorCode.NOT_FOUND, "provider " + name + " does not exist");
      return v;
    });
  }

  /** Fails with a 400 on {@code base_url} when its host does not resolve or resolves where the provider may not go. */
  private CompletionStage<Void> reachable(String baseUrl, boolean allowPrivate) {
    return CompletableFuture.runAsync(() -> {
      String problem = RemoteOpenAiEndpoint.checkHost(baseUrl, allowPrivate);
      if (problem != null) {
        throw AdminValidation.invalid("base_url", "'base_url': " + problem + (allowPrivate ? "" : " (a platform-admin may create it with "
            + "\"allow_private\": true)"));
      }
    }, blocking);
  }

  /** Stores {@code key} as the next version of the platform's secret for provider {@code name}; 0 when there is none to store. */
  private CompletionStage<Integer> storeKey(Principal p, String name, String key) {
    if (key == null) return CompletableFuture.completedFuture(0);
    var value = SecretValue.of(key);
    return secrets.put(Role.PLATFORM_TENANT, ProviderEntity.SECRET_NAMESPACE, name, value, actor(p)).thenApply(v -> {
      value.destroy();
      return v.version();
    });
  }

  private static String baseUrl(String url) {
    String problem = RemoteOpenAiEndpoint.checkBaseUrl(url);
    if (problem != null) throw AdminValidation.invalid("base_url", "'base_url' " + problem);
    return url;
  }

  private static List<String> models(List<String> models) {
    if (models == null || models.isEmpty() || models.size() > ProviderSpec.MAX_MODELS) {
      throw AdminValidation.invalid("models", "'models' must list 1 to " + ProviderSpec.MAX_MODELS + " model names");
    }
    for (int i = 0; i < models.size(); i++) AdminValidation.modelId("models[" + i + "]", models.get(i));
    if (models.stream().distinct().count() != models.size()) throw AdminValidation.invalid("models", "'models' lists a model twice");
    return List.copyOf(models);
  }

  private static String key(String key) {
    if (key == null) return null;
    if (key.isEmpty() || key.length() > MAX_KEY) throw AdminValidation.invalid("api_key", "'api_key' must be 1 to " + MAX_KEY + " characters");
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      // It goes into an HTTP header as it is: a line break would add headers of its own.
      if (c < 0x21 || c > 0x7e) throw AdminValidation.invalid("api_key", "'api_key' must be printable ASCII without spaces");
    }
    return key;
  }

  private static double price(String field, Double v) {
    if (v == null) return 0;
    if (!(v >= 0 && v <= MAX_PRICE)) throw AdminValidation.invalid(field, "'" + field + "' must be between 0 and " + (long) MAX_PRICE);
    return v;
  }

  private static Map<String, String> details(ProviderSpec s) {
    var m = new LinkedHashMap<String, String>();
    m.put("base_url", s.baseUrl());
    m.put("models", String.join(",", s.models()));
    m.put("allow_private", Boolean.toString(s.allowPrivate()));
    m.put("key_version", Integer.toString(s.keyVersion()));
    return m;
  }

  private static AdminResponses.Provider body(ProviderEntity.ProviderView v) {
    var s = v.spec();
    return new AdminResponses.Provider(v.name(), s.baseUrl(), s.models(), s.hasKey(), s.keyVersion(), s.keyOrigin(), s.inputPricePerMTokens(),
        s.outputPricePerMTokens(), s.allowPrivate(), Tenants.text(v.createdAt()), Tenants.text(v.updatedAt()));
  }
}
