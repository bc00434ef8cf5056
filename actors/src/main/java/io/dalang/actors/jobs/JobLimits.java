package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;

/**
 * A tenant's limits on durable jobs; 0 means no limit. In a tenant's quotas a null field means the
 * node's default ({@code dalang.jobs.max-pending-jobs} and friends, {@link JobSettings#limits()}).
 *
 * @param pendingJobs jobs submitted and not finished (queued or running) at once
 * @param pendingBytes request bytes those jobs hold in the journal at once
 * @param submissionsPerMinute new jobs accepted in any 60 s (an idempotent repeat is not a new job)
 */
public record JobLimits(Long pendingJobs, Long pendingBytes, Long submissionsPerMinute) implements CborSerializable {

  /** No override: the node's defaults hold. */
  public static final JobLimits DEFAULTS = new JobLimits(null, null, null);

  /** These limits with each unset one taken from {@code defaults}. */
  public JobLimits over(JobLimits defaults) {
    return new JobLimits(pendingJobs != null ? pendingJobs : defaults.pendingJobs,
        pendingBytes != null ? pendingBytes : defaults.pendingBytes,
        submissionsPerMinute != null ? submissionsPerMinute : defaults.submissionsPerMinute);
  }
}
