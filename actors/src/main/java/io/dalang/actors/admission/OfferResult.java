package io.dalang.actors.admission;

import io.dalang.protocols.error.ErrorCode;

/** What {@link AdmissionQueue#offer} did with a job. */
public sealed interface OfferResult<T> permits OfferResult.Admitted, OfferResult.AdmittedEvicting, OfferResult.Rejected {

  /** The job is queued. */
  record Admitted<T>() implements OfferResult<T> {}

  /** The job is queued in place of {@code victim}, which has left the queue and must be answered by the owner. */
  record AdmittedEvicting<T>(Job<T> victim) implements OfferResult<T> {}

  /**
   * The job is not queued. {@code retryAfterMs} is a hint for the client, 0 when there is none.
   *
   * @param code {@code capacity_exhausted} when full, {@code timeout} when the job cannot start before its
   *     deadline, {@code invalid_request} when a job with the same id is already queued
   */
  record Rejected<T>(ErrorCode code, String reason, long retryAfterMs) implements OfferResult<T> {}

  /** True when the job was queued, evicting or not. */
  default boolean admitted() {
    return !(this instanceof Rejected);
  }
}
