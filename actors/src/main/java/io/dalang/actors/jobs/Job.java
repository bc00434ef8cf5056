package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;

/**
 * A job as it was submitted; never changes afterwards.
 *
 * @param keyId the public id of the API key that submitted it, {@code role} that key's role: attempts run
 *     as the key's tenant with the pools, models and quotas the tenant has at the time of the attempt
 * @param idempotencyKey the client's {@code Idempotency-Key}, null if it sent none
 * @param requestHash SHA-256 of the request as the edge received it (canonical JSON), to tell a
 *     repeated submission from a different one
 */
public record Job(String jobId, String tenantId, String keyId, String role, JobRequest request, String idempotencyKey,
    String requestHash, Instant submittedAt) implements CborSerializable {

  Job withoutBody(Instant at) {
    return new Job(jobId, tenantId, keyId, role, request.withoutBody(at), idempotencyKey, requestHash, submittedAt);
  }
}
