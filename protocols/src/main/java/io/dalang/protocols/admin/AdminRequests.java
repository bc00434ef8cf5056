package io.dalang.protocols.admin;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The bodies the admin API takes, in its wire form (snake_case). They are read strictly: an unknown
 * field, a wrong type or an out-of-range value is a {@code 400 invalid_request} naming the field
 * ({@link AdminValidation}).
 */
public final class AdminRequests {
  private AdminRequests() {}

  /** {@code POST /admin/v1/tenants}. */
  public record CreateTenant(String id, @JsonProperty("display_name") String displayName, List<String> pools) {}

  /** {@code POST /admin/v1/tenants/{id}/keys}, {@code POST /admin/v1/platform/keys}, and a rotation's new key. */
  public record IssueKey(@JsonProperty("key_id") String keyId, String role) {}

  /** {@code POST .../keys/{key_id}/rotate}: the new key's id (default: the old id with a rotation suffix). */
  public record RotateKey(@JsonProperty("key_id") String keyId) {}

  /** {@code POST /admin/v1/tenants/{id}/pools}. */
  public record GrantPool(String pool) {}

  /** {@code POST /admin/v1/tenants/{id}/providers}: a platform provider the tenant's fallbacks may name. */
  public record GrantProvider(String provider) {}

  /**
   * {@code PUT /admin/v1/tenants/{id}/quotas}: the first four required; 0 means no limit. The durable-job
   * limits are optional: left out, the node's {@code dalang.jobs} default holds.
   */
  public record SetQuotas(@JsonProperty("requests_per_minute") Long requestsPerMinute,
      @JsonProperty("tokens_per_day") Long tokensPerDay, @JsonProperty("concurrent_jobs") Integer concurrentJobs,
      @JsonProperty("queued_jobs") Integer queuedJobs, @JsonProperty("pending_jobs") Long pendingJobs,
      @JsonProperty("pending_job_bytes") Long pendingJobBytes, @JsonProperty("job_submissions_per_minute") Long jobSubmissionsPerMinute) {}

  /** {@code PUT /admin/v1/tenants/{id}/fallbacks}: the tenant's ordered fallback targets (empty: none). */
  public record SetFallbacks(List<FallbackTarget> targets) {}

  /**
   * One fallback target: either {@code pool} (one of the tenant's pools), or {@code provider} (a provider's
   * name, {@code /admin/v1/providers}) and the {@code model} to ask it for. {@code name}, {@code base_url}
   * and {@code api_key_secret} are the retired URL form: read only to be refused by name.
   */
  public record FallbackTarget(String pool, String provider, String model, String name, @JsonProperty("base_url") String baseUrl,
      @JsonProperty("api_key_secret") String apiKeySecret, @JsonProperty("for_model") String forModel) {}

  /**
   * {@code POST /admin/v1/providers}: a remote OpenAI-compatible endpoint; {@code api_key} (stored as the
   * platform's secret {@code providers/<name>}, never shown), prices and {@code allow_private} are optional.
   */
  public record CreateProvider(String name, @JsonProperty("base_url") String baseUrl, List<String> models,
      @JsonProperty("api_key") String apiKey, @JsonProperty("input_price_per_mtok") Double inputPricePerMTok,
      @JsonProperty("output_price_per_mtok") Double outputPricePerMTok, @JsonProperty("allow_private") Boolean allowPrivate) {
    /** Never the key. */
    @Override
    public String toString() {
      return "CreateProvider[name=" + name + ", base_url=" + baseUrl + ", api_key=[REDACTED]]";
    }
  }

  /** {@code PATCH /admin/v1/providers/{name}}: what to change; absent fields stay. */
  public record UpdateProvider(@JsonProperty("base_url") String baseUrl, List<String> models, @JsonProperty("api_key") String apiKey,
      @JsonProperty("input_price_per_mtok") Double inputPricePerMTok, @JsonProperty("output_price_per_mtok") Double outputPricePerMTok,
      @JsonProperty("allow_private") Boolean allowPrivate) {
    /** Never the key. */
    @Override
    public String toString() {
      return "UpdateProvider[base_url=" + baseUrl + ", api_key=[REDACTED]]";
    }
  }

  /** {@code PUT /admin/v1/tenants/{id}/secrets/{namespace}/{name}}: the value, stored encrypted as a new version. */
  public record PutSecret(String value) {
    /** Never the value: a request object must not leak it into a log line by accident. */
    @Override
    public String toString() {
      return "PutSecret[value=[REDACTED]]";
    }
  }

  /**
   * {@code POST /admin/v1/pools}: a pool serving a catalog model ({@code model}: {@code name@version},
   * or {@code name} for its latest version; {@code model_id}, what clients call it, defaults to the name)
   * or, deprecated, a model file at the same path on every node ({@code model_id} and {@code model_path}).
   * {@code task}: {@code generate} (the default), {@code embed} or {@code rerank}, what the pool's engines
   * are started for. A pool of engine {@code openai-upstream} lists its {@code upstreams} instead of a
   * model (one replica each); a pool of engine {@code simulated} gives its {@code simulated} profile.
   */
  public record CreatePool(String id, @JsonProperty("model_id") String modelId, @JsonProperty("model_path") String modelPath,
      @JsonProperty("model_digest") String modelDigest, String engine, Integer replicas,
      @JsonProperty("context_per_sequence") Integer contextPerSequence, Integer parallel, Integer threads,
      @JsonProperty("gpu_offload") String gpuOffload, String task, String model, List<Upstream> upstreams, Simulated simulated) {}

  /**
   * One server of an {@code openai-upstream} pool: the platform provider that says where it is and holds
   * its key, the model name it serves ({@code model}, default the pool's {@code model_id}; it must be one of
   * the provider's models) and how many requests it is sent at once ({@code max_sequences}, default 16).
   */
  public record Upstream(String provider, String model, @JsonProperty("max_sequences") Integer maxSequences) {}

  /**
   * How a {@code simulated} pool's engines behave (absent fields take their defaults): time to the first
   * token and between tokens, tokens per answer (0: {@code max_tokens}), the share of requests that fail,
   * timing jitter (0 to 1), the seed, and the sequences each replica runs at once.
   */
  public record Simulated(@JsonProperty("ttft_ms") Double ttftMs, @JsonProperty("itl_ms") Double itlMs,
      @JsonProperty("output_tokens") Integer outputTokens, @JsonProperty("error_rate") Double errorRate, Double jitter, Long seed,
      @JsonProperty("max_sequences") Integer maxSequences) {}

  /**
   * {@code PATCH /admin/v1/pools/{id}}: what to change; absent fields stay. A {@code model} (a catalog
   * version) starts a rollout to it, with {@code strategy} ({@code rolling}, the default, or
   * {@code blue-green}), {@code max_surge}, {@code max_unavailable} and {@code health_gate}. A
   * {@code split} ({@code {"v1": 90, "v2": 10}}: the pool's version and another of its model, percents
   * adding up to 100) serves both versions, routing that share of the runs to each.
   */
  public record UpdatePool(Integer replicas, String engine, String model, String strategy, @JsonProperty("max_surge") Integer maxSurge,
      @JsonProperty("max_unavailable") Integer maxUnavailable, @JsonProperty("health_gate") HealthGate healthGate,
      java.util.Map<String, Integer> split) {
    public UpdatePool(Integer replicas, String engine) {
      this(replicas, engine, null, null, null, null, null, null);
    }
  }

  /** What a rollout's new version must show before the old one goes; absent fields take their defaults. */
  public record HealthGate(@JsonProperty("min_runs") Integer minRuns, @JsonProperty("timeout_seconds") Long timeoutSeconds,
      @JsonProperty("max_error_rate") Double maxErrorRate, @JsonProperty("max_ttft_p95_ratio") Double maxTtftP95Ratio,
      @JsonProperty("min_tokens_per_second_ratio") Double minTokensPerSecondRatio, @JsonProperty("max_restarts") Integer maxRestarts) {}

  /**
   * {@code POST /admin/v1/models}: add a version of a catalog model from a file on the control node or
   * an http(s) URL ({@code hf://ORG/REPO/FILE.gguf} resolves to Hugging Face's URL).
   *
   * @param sha256 the blob's expected digest; a different one fails the import
   * @param version the version's name; absent: {@code v<n>}
   * @param parent what it was derived from ({@code "Q4_K_M of name@v1"})
   * @param allowPrivate whether the URL may be on a loopback, link-local or private address (audited)
   */
  public record AddModel(String name, String from, String sha256, String version, java.util.Map<String, String> labels, String parent,
      @JsonProperty("allow_private") Boolean allowPrivate) {}

  /**
   * {@code POST /admin/v1/models/{name}/prefetch}: pull a version (the latest when absent) into GPU nodes'
   * caches before a replica needs it: onto {@code nodes}, or the nodes that run {@code pool}'s replicas,
   * or every GPU node when neither is given.
   */
  public record PrefetchModel(String version, java.util.List<String> nodes, String pool) {}
}
