package io.dalang.actors.fallback;

import io.dalang.protocols.CborSerializable;

/**
 * One entry of a tenant's ordered fallback list: a pool of the tenant's, or a remote OpenAI-compatible
 * endpoint whose API key is a secret in the tenant's secret namespace. One flat record (the kind follows
 * from which fields are set) so that it serializes as it is in the tenant's events and snapshots.
 *
 * @param pool the pool's id for a pool target, null for a remote one
 * @param name a remote target's name (labels, errors); for a pool target its pool id
 * @param baseUrl a remote target's API base, e.g. {@code https://api.example.com/v1}; null for a pool
 * @param model the model a remote target is asked for; for a pool target the model its pool serves,
 *     filled in when the tenant's keys are resolved (null as stored)
 * @param apiKeySecret {@code namespace/name} of the tenant secret holding a remote target's key; null or
 *     empty for an endpoint without a key
 */
public record FallbackTarget(String pool, String name, String baseUrl, String model, String apiKeySecret) implements CborSerializable {

  public static FallbackTarget pool(String poolId) {
    return new FallbackTarget(poolId, poolId, null, null, null);
  }

  public static FallbackTarget remote(String name, String baseUrl, String model, String apiKeySecret) {
    return new FallbackTarget(null, name, baseUrl, model, apiKeySecret);
  }

  public boolean isPool() {
    return pool != null;
  }

  /** How responses, run records and metrics name it: {@code pool:<id>} or {@code remote:<name>}. */
  public String label() {
    return isPool() ? poolLabel(pool) : "remote:" + name;
  }

  public static String poolLabel(String poolId) {
    return "pool:" + poolId;
  }

  /** This pool target with the model its pool serves. */
  public FallbackTarget withModel(String servedModel) {
    return new FallbackTarget(pool, name, baseUrl, servedModel, apiKeySecret);
  }

  /** The secret's namespace, or null when the target has no key. */
  public String secretNamespace() {
    return hasKey() ? apiKeySecret.substring(0, apiKeySecret.indexOf('/')) : null;
  }

  /** The secret's name, or null when the target has no key. */
  public String secretName() {
    return hasKey() ? apiKeySecret.substring(apiKeySecret.indexOf('/') + 1) : null;
  }

  public boolean hasKey() {
    return apiKeySecret != null && apiKeySecret.indexOf('/') > 0;
  }
}
