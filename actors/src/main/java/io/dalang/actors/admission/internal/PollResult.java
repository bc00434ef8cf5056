package io.dalang.actors.admission.internal;

import java.util.List;
import java.util.Optional;

/**
 * What {@link AdmissionQueue#poll} took out of the queue.
 *
 * @param next the item to dispatch now, if any is queued
 * @param expired items whose deadline passed while they waited, earliest deadline first; the owner answers
 *     each with {@code timeout}
 */
public record PollResult<T>(Optional<AdmissionItem<T>> next, List<AdmissionItem<T>> expired) {}
