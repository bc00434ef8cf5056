package io.dalang.actors.admission;

import java.util.List;
import java.util.Optional;

/**
 * What {@link AdmissionQueue#poll} took out of the queue.
 *
 * @param next the job to dispatch now, if any is queued
 * @param expired jobs whose deadline passed while they waited, earliest deadline first; the owner answers
 *     each with {@code timeout}
 */
public record PollResult<T>(Optional<Job<T>> next, List<Job<T>> expired) {}
