package io.dalang.actors.run;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.actors.fallback.FallbackTarget;
import java.util.List;
import java.util.Set;

/**
 * One accepted request, authenticated and validated, as the edge hands it to a {@link RunActor}.
 *
 * @param pools the tenant's pools
 * @param poolId the pool that serves {@code modelId} to the tenant: its admission queue takes the run
 * @param deadlineEpochMs the latest wall-clock time the run may start, 0 for none
 * @param quotas the tenant's quotas, checked before the run is queued
 * @param fallbacks the tenant's ordered fallback targets (pool targets with their model), tried in order
 *     when the run fails with a retriable error before anything of it reached the client
 */
public record RunSpec(
    String tenantId,
    Set<String> pools,
    String poolId,
    String modelId,
    GenerationRequest request,
    boolean stream,
    long receivedAtNanos,
    long receivedAtEpochMs,
    Priority priority,
    long deadlineEpochMs,
    TenantEntity.Quotas quotas,
    List<FallbackTarget> fallbacks) {

  public RunSpec(String tenantId, Set<String> pools, String poolId, String modelId, GenerationRequest request, boolean stream,
      long receivedAtNanos, long receivedAtEpochMs, Priority priority, long deadlineEpochMs, TenantEntity.Quotas quotas) {
    this(tenantId, pools, poolId, modelId, request, stream, receivedAtNanos, receivedAtEpochMs, priority, deadlineEpochMs, quotas, List.of());
  }

  public String runId() {
    return request.runId();
  }
}
