package io.dalang.actors.fallback;

import io.dalang.protocols.CborSerializable;

/**
 * One entry of a tenant's ordered fallback list: a pool of the tenant's, or a provider (a remote
 * OpenAI-compatible endpoint the platform manages, {@code ProviderEntity}) named with the model to ask it
 * for. One flat record (the kind follows from which fields are set) so that it serializes as it is in the
 * tenant's events and snapshots.
 *
 * <p>Lists stored before providers existed may hold a URL target ({@code baseUrl} and {@code apiKeySecret}
 * set): it is kept so that those events still read, but it is never used ({@link #isLegacyUrl}); the
 * tenant's keys do not carry it and the admin API shows it as ignored.
 *
 * @param pool the pool's id for a pool target, null otherwise
 * @param name the provider's name; for a pool target its pool id
 * @param baseUrl null, except in a legacy URL target
 * @param model the model the provider is asked for; for a pool target the model its pool serves,
 *     filled in when the tenant's keys are resolved (null as stored)
 * @param apiKeySecret null, except in a legacy URL target
 * @param forModel the model whose runs this target may take, whatever model it serves itself: the tenant's
 *     rule that the target's model is an accepted substitute for it. Null (and in lists stored before
 *     per-model rules): only runs of the model the target serves, so that no run is answered by another
 *     model than the one it asked for unless a rule says so
 */
public record FallbackTarget(String pool, String name, String baseUrl, String model, String apiKeySecret, String forModel)
    implements CborSerializable {

  public FallbackTarget(String pool, String name, String baseUrl, String model, String apiKeySecret) {
    this(pool, name, baseUrl, model, apiKeySecret, null);
  }

  public static FallbackTarget pool(String poolId) {
    return new FallbackTarget(poolId, poolId, null, null, null);
  }

  public static FallbackTarget provider(String provider, String model) {
    return new FallbackTarget(null, provider, null, model, null);
  }

  public boolean isPool() {
    return pool != null;
  }

  /** A remote URL named by the tenant itself, as lists could hold before providers: never called. */
  public boolean isLegacyUrl() {
    return pool == null && baseUrl != null;
  }

  /** How responses, run records and metrics name it: {@code pool:<id>} or {@code remote:<provider>}. */
  public String label() {
    return isPool() ? poolLabel(pool) : "remote:" + name;
  }

  public static String poolLabel(String poolId) {
    return "pool:" + poolId;
  }

  /** This pool target with the model its pool serves. */
  public FallbackTarget withModel(String servedModel) {
    return new FallbackTarget(pool, name, baseUrl, servedModel, apiKeySecret, forModel);
  }

  /** This target, taking runs of {@code requested} (a rule naming it as a substitute for that model). */
  public FallbackTarget onlyFor(String requested) {
    return new FallbackTarget(pool, name, baseUrl, model, apiKeySecret, requested);
  }

  /**
   * Whether a run that asked for {@code requested} may move to this target: the rule names that model,
   * or (no rule) the target serves that very model. A pool target's model is known once the tenant's
   * keys are resolved ({@link #withModel}); before, it takes nothing without a rule.
   */
  public boolean takes(String requested) {
    return forModel != null ? forModel.equals(requested) : requested.equals(model);
  }
}
