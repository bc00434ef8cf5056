package io.dalang.actors.admission.internal;

import io.dalang.protocols.error.ErrorCode;

/** What {@link AdmissionQueue#offer} did with an item. */
public sealed interface OfferResult<T> permits OfferResult.Admitted, OfferResult.AdmittedEvicting, OfferResult.Rejected {

  /** The item is queued. */
  record Admitted<T>() implements OfferResult<T> {}

  /** The item is queued in place of {@code victim}, which has left the queue and must be answered by the owner. */
  record AdmittedEvicting<T>(AdmissionItem<T> victim) implements OfferResult<T> {}

  /**
   * The item is not queued. {@code retryAfterMs} is a hint for the client, 0 when there is none.
   *
   * @param code {@code capacity_exhausted} when full, {@code timeout} when the item cannot start before its
   *     deadline, {@code invalid_request} when an item with the same id is already queued
   */
  record Rejected<T>(ErrorCode code, String reason, long retryAfterMs) implements OfferResult<T> {}

  /** True when the item was queued, evicting or not. */
  default boolean admitted() {
    return !(this instanceof Rejected);
  }
}
