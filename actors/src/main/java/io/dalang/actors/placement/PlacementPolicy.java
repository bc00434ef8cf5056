package io.dalang.actors.placement;

import java.util.Locale;

/**
 * How placement ranks the slots that passed the feasibility filter. Ties always go to the lowest slot
 * id, so one fleet snapshot and one job give one decision.
 */
public enum PlacementPolicy {
  /** The slot with the largest share of free sequences, then the shortest queue: lowest latency now. */
  LEAST_LOADED,
  /** The busiest slot that still has a free sequence: keeps other slots idle, to drain or scale down. */
  BIN_PACK,
  /** The slot on the node that runs the fewest sequences of this model: spreads a model's load over nodes. */
  SPREAD;

  /** The config and wire name: {@code least-loaded}, {@code bin-pack}, {@code spread}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static PlacementPolicy parse(String s) {
    for (PlacementPolicy p : values()) if (p.wireName().equals(s.strip().toLowerCase(Locale.ROOT))) return p;
    throw new IllegalArgumentException("unknown placement policy '" + s + "' (least-loaded, bin-pack or spread)");
  }
}
