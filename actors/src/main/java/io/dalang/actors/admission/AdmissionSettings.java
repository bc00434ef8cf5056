package io.dalang.actors.admission;

import java.util.Map;
import java.util.Objects;

/**
 * How one pool's {@link io.dalang.actors.admission.internal.AdmissionQueue} behaves.
 *
 * @param capacity the most items queued at once, all tenants and priorities together
 * @param policy what a full queue does with one more item
 * @param tenantWeights each named tenant's weight within a priority class; others get {@code defaultWeight}
 * @param defaultWeight the weight of a tenant not named in {@code tenantWeights}
 * @param quantum cost units a weight-1 tenant earns per deficit-round-robin round; weight {@code w} earns
 *     {@code quantum × w}. With unit-cost items that is how many items it dispatches per turn.
 * @param tenantShare the most items one tenant may have queued, all priorities together, so that one
 *     tenant's flood fills its share and not the queue; {@code capacity} for no share
 */
public record AdmissionSettings(int capacity, OverflowPolicy policy, Map<String, Integer> tenantWeights,
    int defaultWeight, int quantum, int tenantShare) {

  /** Without a tenant share: one tenant may fill the whole queue. */
  public AdmissionSettings(int capacity, OverflowPolicy policy, Map<String, Integer> tenantWeights, int defaultWeight, int quantum) {
    this(capacity, policy, tenantWeights, defaultWeight, quantum, capacity);
  }

  public AdmissionSettings {
    if (tenantShare < 1) throw new IllegalArgumentException("tenantShare must be at least 1, was " + tenantShare);
    Objects.requireNonNull(policy, "policy");
    tenantWeights = Map.copyOf(tenantWeights);
    if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1, was " + capacity);
    if (defaultWeight < 1) throw new IllegalArgumentException("defaultWeight must be at least 1, was " + defaultWeight);
    if (quantum < 1) throw new IllegalArgumentException("quantum must be at least 1, was " + quantum);
    tenantWeights.forEach((tenant, weight) -> {
      if (weight < 1) throw new IllegalArgumentException("weight of tenant " + tenant + " must be at least 1, was " + weight);
    });
  }

  /**
   * The settings of pool {@code poolId}'s queue: {@code dalang.admission}, with the keys under
   * {@code dalang.admission.pools.<poolId>} (capacity, policy, quantum, default-weight, tenant-weights,
   * tenant-share) taking precedence. A {@code tenant-share} of 0 is {@link #defaultTenantShare}.
   */
  public static AdmissionSettings forPool(com.typesafe.config.Config c, String poolId) {
    com.typesafe.config.Config a = c.getConfig("dalang.admission");
    String path = "pools." + com.typesafe.config.ConfigUtil.quoteString(poolId);
    if (a.hasPath(path)) a = a.getConfig(path).withFallback(a);
    var s = from(a, a.getInt("capacity"));
    int share = a.getInt("tenant-share");
    return s.withTenantShare(share <= 0 ? defaultTenantShare(s.capacity()) : Math.min(share, s.capacity()));
  }

  /**
   * A quarter of the queue, at least 8 (never more than the queue): four tenants flooding at once still
   * leave room, and a small queue is not split into shares too small for one client's bursts.
   */
  public static int defaultTenantShare(int capacity) {
    return Math.min(capacity, Math.max(8, capacity / 4));
  }

  public AdmissionSettings withTenantShare(int share) {
    return new AdmissionSettings(capacity, policy, tenantWeights, defaultWeight, quantum, share);
  }

  /** Capacity as given, the rest from a {@code dalang.admission}-shaped config; no tenant share. */
  public static AdmissionSettings from(com.typesafe.config.Config a, int capacity) {
    var weights = new java.util.HashMap<String, Integer>();
    a.getConfig("tenant-weights").root().keySet().forEach(t -> weights.put(t, a.getConfig("tenant-weights").getInt(t)));
    return new AdmissionSettings(capacity, OverflowPolicy.valueOf(a.getString("policy").toUpperCase(java.util.Locale.ROOT).replace('-', '_')),
        weights, a.getInt("default-weight"), a.getInt("quantum"));
  }

  /** The weight {@code tenant} shares by. */
  public int weightOf(String tenant) {
    return tenantWeights.getOrDefault(tenant, defaultWeight);
  }
}
