package io.dalang.actors.admission;

import java.util.Map;
import java.util.Objects;

/**
 * How one pool's {@link AdmissionQueue} behaves.
 *
 * @param capacity the most jobs queued at once, all tenants and priorities together
 * @param policy what a full queue does with one more job
 * @param tenantWeights each named tenant's weight within a priority class; others get {@code defaultWeight}
 * @param defaultWeight the weight of a tenant not named in {@code tenantWeights}
 * @param quantum cost units a weight-1 tenant earns per deficit-round-robin round; weight {@code w} earns
 *     {@code quantum × w}. With unit-cost jobs that is how many jobs it dispatches per turn.
 */
public record AdmissionSettings(int capacity, OverflowPolicy policy, Map<String, Integer> tenantWeights,
    int defaultWeight, int quantum) {

  public AdmissionSettings {
    Objects.requireNonNull(policy, "policy");
    tenantWeights = Map.copyOf(tenantWeights);
    if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    if (defaultWeight < 1) throw new IllegalArgumentException("defaultWeight must be at least 1, was " + defaultWeight);
    if (quantum < 1) throw new IllegalArgumentException("quantum must be at least 1, was " + quantum);
    tenantWeights.forEach((tenant, weight) -> {
      if (weight < 1) throw new IllegalArgumentException("weight of tenant " + tenant + " must be at least 1, was " + weight);
    });
  }

  /** The weight {@code tenant} shares by. */
  public int weightOf(String tenant) {
    return tenantWeights.getOrDefault(tenant, defaultWeight);
  }
}
