package io.dalang.runtime.admin;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.provider.ProviderEntity;
import io.dalang.protocols.admin.AdminRequests;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.admin.AdminValidation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * The wire form of a tenant's fallback list ({@code PUT/GET /admin/v1/tenants/{id}/fallbacks}): strict
 * validation of what comes in, and the body that goes out. A target is one of the tenant's pools or a
 * provider by name: tenants cannot name URLs or keys ({@code docs/security.md}, "Outbound connections").
 */
final class FallbackTargets {
  /** Targets a tenant may list (over all its models): the chain's length bounds how long a failing run keeps trying. */
  static final int MAX_TARGETS = 32;

  private FallbackTargets() {}

  static List<FallbackTarget> parse(AdminRequests.SetFallbacks req) {
    if (req.targets() == null) throw AdminValidation.invalid("targets", "'targets' is required (an empty list removes every fallback)");
    if (req.targets().size() > MAX_TARGETS) throw AdminValidation.invalid("targets", "'targets' may list at most " + MAX_TARGETS + " targets");
    var out = new ArrayList<FallbackTarget>();
    for (int i = 0; i < req.targets().size(); i++) {
      var t = req.targets().get(i);
      String f = "targets[" + i + "]";
      if (t == null) throw AdminValidation.invalid(f, "'" + f + "' must be an object");
      out.add(target(f, t));
    }
    if (out.stream().map(t -> t.label() + " for " + t.forModel()).distinct().count() != out.size()) {
      throw AdminValidation.invalid("targets", "'targets' lists a target twice for the same model");
    }
    return List.copyOf(out);
  }

  private static FallbackTarget target(String f, AdminRequests.FallbackTarget t) {
    // The retired URL form: a tenant could send its secrets to any host it named.
    for (var retired : List.of(Map.entry("base_url", t.baseUrl() != null), Map.entry("api_key_secret", t.apiKeySecret() != null),
        Map.entry("name", t.name() != null))) {
      if (retired.getValue()) {
        throw AdminValidation.invalid(f + "." + retired.getKey(), "'" + f + "." + retired.getKey()
            + "' is no longer accepted: a fallback names a provider ('provider' and 'model'), which a platform-admin creates");
      }
    }
    FallbackTarget target;
    if (t.pool() != null) {
      if (t.provider() != null || t.model() != null) throw AdminValidation.invalid(f, "'" + f + "': a pool target has only 'pool' (and 'for_model')");
      target = FallbackTarget.pool(AdminValidation.id(f + ".pool", t.pool()));
    } else {
      if (t.provider() == null) throw AdminValidation.invalid(f, "'" + f + "' needs 'pool', or 'provider' and 'model'");
      target = FallbackTarget.provider(AdminValidation.id(f + ".provider", t.provider()), AdminValidation.modelId(f + ".model", t.model()));
    }
    // Without for_model a target only takes runs of the model it serves itself; with it, runs of that
    // model, answered by the target's (a substitute the tenant accepted, which responses then name).
    return t.forModel() == null ? target : target.onlyFor(AdminValidation.modelId(f + ".for_model", t.forModel()));
  }

  /** Fails with a typed 400 naming the target when a provider target's provider does not exist or does not serve its model. */
  static CompletionStage<Void> checkProviders(List<FallbackTarget> targets, Function<String, CompletionStage<ProviderEntity.ProviderView>> providers) {
    CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
    for (int i = 0; i < targets.size(); i++) {
      var t = targets.get(i);
      if (t.isPool()) continue;
      String f = "targets[" + i + "]";
      all = all.thenCompose(x -> providers.apply(t.name()).thenAccept(p -> {
        if (!p.exists()) throw AdminValidation.invalid(f + ".provider", "'" + f + ".provider': there is no provider " + t.name());
        if (!p.spec().models().contains(t.model())) {
          throw AdminValidation.invalid(f + ".model", "'" + f + ".model': provider " + t.name() + " serves " + p.spec().models());
        }
      }));
    }
    return all;
  }

  static AdminResponses.Fallbacks body(String tenant, List<FallbackTarget> targets) {
    return new AdminResponses.Fallbacks(tenant, targets.stream().map(FallbackTargets::body).toList());
  }

  private static AdminResponses.FallbackTarget body(FallbackTarget t) {
    if (t.isPool()) return new AdminResponses.FallbackTarget(t.label(), t.pool(), null, null, null, t.forModel());
    if (t.isLegacyUrl()) {
      return new AdminResponses.FallbackTarget(t.label(), null,
          "a URL target stored before providers existed: never used; set the list again naming a provider", null, null, null);
    }
    return new AdminResponses.FallbackTarget(t.label(), null, null, t.name(), t.model(), t.forModel());
  }
}
