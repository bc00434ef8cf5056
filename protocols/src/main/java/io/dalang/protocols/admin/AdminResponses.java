package io.dalang.protocols.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.dalang.protocols.node.SlotView;
import java.util.List;
import java.util.Map;

/**
 * The bodies the admin API answers with, in their wire form (snake_case, fields in this order). Times
 * are ISO-8601 strings; a null field is written as {@code null} unless it says it is left out.
 */
public final class AdminResponses {
  private AdminResponses() {}

  /** A tenant; {@code keys} is left out for a tenant-user. */
  public record Tenant(String id, @JsonProperty("display_name") String displayName, List<String> pools,
      @JsonProperty("created_at") String createdAt, @JsonInclude(JsonInclude.Include.NON_NULL) List<Key> keys, Quotas quotas,
      List<String> providers) {}

  /** A key as listed: never the key itself. */
  public record Key(@JsonProperty("key_id") String keyId, String role, boolean active, @JsonProperty("issued_at") String issuedAt,
      @JsonProperty("revoked_at") String revokedAt) {}

  /** A key just issued: the only answer that shows {@code key}. */
  public record IssuedKey(String tenant, @JsonProperty("key_id") String keyId, String role, String key, String note) {
    public static final String NOTE = "the key is shown only now; Dalang keeps only its SHA-256";
  }

  /**
   * A tenant's quotas; the job limits are null where the node's {@code dalang.jobs} default holds.
   * {@code usage} (left out when not asked for) is the use now.
   */
  public record Quotas(@JsonProperty("requests_per_minute") long requestsPerMinute, @JsonProperty("tokens_per_day") long tokensPerDay,
      @JsonProperty("concurrent_jobs") int concurrentJobs, @JsonProperty("queued_jobs") int queuedJobs,
      @JsonProperty("pending_jobs") Long pendingJobs, @JsonProperty("pending_job_bytes") Long pendingJobBytes,
      @JsonProperty("job_submissions_per_minute") Long jobSubmissionsPerMinute,
      @JsonInclude(JsonInclude.Include.NON_NULL) QuotaUsage usage) {

    public Quotas withUsage(QuotaUsage u) {
      return new Quotas(requestsPerMinute, tokensPerDay, concurrentJobs, queuedJobs, pendingJobs, pendingJobBytes, jobSubmissionsPerMinute, u);
    }
  }

  /** A tenant's quota counters now and when they reset. */
  public record QuotaUsage(@JsonProperty("requests_this_minute") long requestsThisMinute,
      @JsonProperty("minute_resets_at") String minuteResetsAt, @JsonProperty("tokens_today") long tokensToday,
      @JsonProperty("day_resets_at") String dayResetsAt, @JsonProperty("in_flight") int inFlight) {}

  /** A tenant's fallback list. */
  public record Fallbacks(String tenant, List<FallbackTarget> targets) {}

  /**
   * One fallback target: {@code pool}, or {@code provider} and {@code model}, or {@code ignored} saying why
   * it is never used; {@code for_model} when a rule makes it a substitute for that model.
   */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record FallbackTarget(String target, String pool, String ignored, String provider, String model,
      @JsonProperty("for_model") String forModel) {}

  /** A secret version just stored. */
  public record SecretStored(String namespace, String name, int version, @JsonProperty("key_id") String keyId,
      @JsonProperty("created_at") String createdAt) {}

  public record Secrets(List<Secret> secrets) {}

  /** A secret's versions: never a value. */
  public record Secret(String namespace, String name, List<SecretVersion> versions) {}

  public record SecretVersion(int version, @JsonProperty("key_id") String keyId, @JsonProperty("created_at") String createdAt) {}

  public record SecretDeleted(String namespace, String name, @JsonProperty("versions_deleted") int versionsDeleted) {}

  public record SecretsRotated(int rewrapped, @JsonProperty("already_current") int alreadyCurrent, @JsonProperty("key_id") String keyId) {}

  /** A page of the audit ledger; {@code next_after} is the last event's sequence number, null on an empty page. */
  public record AuditPage(List<AuditEvent> events, @JsonProperty("next_after") Long nextAfter) {}

  public record AuditEvent(long seq, String time, String tenant, String actor, String action, String target, String outcome,
      String reason, Map<String, String> details, @JsonProperty("prev_hash") String prevHash, String hash) {}

  /** Every slot the placement actor knows of. */
  /** Every slot placement knows of, and each GPU node's model cache (what it holds, what it pulls now). */
  public record Fleet(List<SlotView> slots, @JsonProperty("model_caches") List<ModelCache> modelCaches) {}

  /**
   * One node's model cache; {@code max_bytes} 0 means no quota; {@code disk_free_bytes} what its file system has
   * free (-1: unknown). Placement puts a replica of a catalog model only where its blob fits both.
   */
  public record ModelCache(@JsonProperty("node_id") String nodeId, @JsonProperty("used_bytes") long usedBytes,
      @JsonProperty("max_bytes") long maxBytes, @JsonProperty("disk_free_bytes") long diskFreeBytes, List<CachedBlob> blobs,
      List<BlobPull> pulls) {}

  public record CachedBlob(String sha256, long size, @JsonProperty("last_used") String lastUsed) {}

  public record BlobPull(String sha256, @JsonProperty("bytes_done") long bytesDone, @JsonProperty("bytes_total") long bytesTotal) {}

  /** {@code POST /admin/v1/models/{name}/prefetch}: the version being warmed and each node's answer. */
  public record ModelPrefetch(String name, String version, String sha256, List<PrefetchNode> nodes) {}

  public record PrefetchNode(@JsonProperty("node_id") String nodeId, boolean accepted, String note) {}

  /** A page of the dead-letter queue: each job as {@code GET /v1/jobs/{id}} shows it. */
  public record DeadLetters(List<?> jobs, @JsonProperty("next_cursor") String nextCursor) {}

  /** One job's replay: {@code replayed} false when {@code replay_id} was used already (a no-op). */
  public record Replay(String id, boolean replayed, String note, String state, @JsonProperty("replay_id") String replayId) {}

  public record Replays(String tenant, @JsonProperty("replay_id") String replayId, List<Replay> jobs) {}

  /** A pool and its replicas' slots. */
  public record Pool(String id, @JsonProperty("model_id") String modelId, @JsonProperty("model_path") String modelPath,
      @JsonProperty("model_digest") String modelDigest, String engine, int replicas,
      @JsonProperty("context_per_sequence") int contextPerSequence, int parallel, int threads,
      @JsonProperty("gpu_offload") String gpuOffload, String task, String model, List<SlotView> slots, Rollout rollout,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<AdminRequests.Upstream> upstreams,
      @JsonInclude(JsonInclude.Include.NON_NULL) AdminRequests.Simulated simulated) {}

  /** A pool's rollout under way, or its last one; {@code replicas_old}/{@code replicas_new} count its replicas of each version now. */
  public record Rollout(String target, String strategy, String phase, @JsonProperty("started_at") String startedAt,
      @JsonProperty("updated_at") String updatedAt, String note, @JsonProperty("max_surge") int maxSurge,
      @JsonProperty("max_unavailable") int maxUnavailable, @JsonProperty("health_gate") HealthGate healthGate,
      @JsonProperty("replicas_old") int replicasOld, @JsonProperty("replicas_new") int replicasNew,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("split_percent") Integer splitPercent,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<VersionFigures> versions) {}

  /**
   * How one version of a pool did since its rollout or split began, from the runs this node recorded:
   * {@code runs}, {@code errors} (not counting what the client caused or load turned away), and over the
   * valid runs TTFT p95 and tokens/s p50.
   */
  public record VersionFigures(String version, int runs, int errors, @JsonProperty("valid_runs") int validRuns,
      @JsonProperty("error_rate") double errorRate, @JsonProperty("ttft_p95_ms") double ttftP95Ms,
      @JsonProperty("tokens_per_second_p50") double tokensPerSecondP50) {}

  public record HealthGate(@JsonProperty("min_runs") int minRuns, @JsonProperty("timeout_seconds") long timeoutSeconds,
      @JsonProperty("max_error_rate") double maxErrorRate, @JsonProperty("max_ttft_p95_ratio") double maxTtftP95Ratio,
      @JsonProperty("min_tokens_per_second_ratio") double minTokensPerSecondRatio, @JsonProperty("max_restarts") int maxRestarts) {}

  public record Pools(List<Pool> pools) {}

  /** A provider: whether it has a key and its version, never the key. */
  public record Provider(String name, @JsonProperty("base_url") String baseUrl, List<String> models, @JsonProperty("has_key") boolean hasKey,
      @JsonProperty("key_version") int keyVersion, @JsonProperty("key_origin") String keyOrigin,
      @JsonProperty("input_price_per_mtok") double inputPricePerMTok, @JsonProperty("output_price_per_mtok") double outputPricePerMTok,
      @JsonProperty("allow_private") boolean allowPrivate, @JsonProperty("created_at") String createdAt,
      @JsonProperty("updated_at") String updatedAt) {}

  public record Providers(List<Provider> providers) {}

  public record ProviderDeleted(String name, boolean deleted) {}

  /** One version of a catalog model. */
  public record ModelVersion(String version, String sha256, long size, String format, String architecture,
      @JsonProperty("context_length") long contextLength, String quantization, @JsonProperty("parameter_count") long parameterCount,
      @JsonProperty("tensor_bytes") long tensorBytes, String source, String parent, @JsonProperty("added_by") String addedBy,
      @JsonProperty("added_at") String addedAt, java.util.Map<String, String> labels, String status) {}

  /** A catalog model with its versions (oldest first) and the pools that name it. */
  public record Model(String name, String latest, List<ModelVersion> versions, List<String> pools) {}

  public record Models(List<Model> models) {}

  /** {@code DELETE /admin/v1/models/{name}[/versions/{v}]}: the versions removed. */
  public record ModelsRemoved(String name, List<String> versions) {}

  /** An import into the catalog: queued, copying, done (with its version) or failed (with why). */
  public record ModelImport(String id, String name, String source, String status, @JsonProperty("bytes_done") long bytesDone,
      @JsonProperty("bytes_total") long bytesTotal, String version, String sha256, String error, @JsonProperty("started_at") String startedAt,
      @JsonProperty("finished_at") String finishedAt) {}
}
