package io.dalang.actors.run;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.Set;

/**
 * One accepted request, authenticated and validated, as the edge hands it to a {@link RunActor}.
 *
 * @param pools the tenant's pools
 * @param poolId the pool that serves {@code modelId} to the tenant: its admission queue takes the run
 * @param deadlineEpochMs the latest wall-clock time the run may start, 0 for none
 * @param quotas the tenant's quotas, checked before the run is queued
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
    TenantEntity.Quotas quotas) {

  public String runId() {
    return request.runId();
  }
}
