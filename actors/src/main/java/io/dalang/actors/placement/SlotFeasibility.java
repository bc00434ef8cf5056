package io.dalang.actors.placement;

import io.dalang.protocols.node.Device;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Where a new model slot may go: every candidate device is checked against the slot's requirements
 * before any scoring, and every rejection keeps its reasons, so "no feasible device" always says why.
 * Among feasible devices the one with the most free memory wins; ties go to the lowest node and device
 * id, so the same fleet and requirements always give the same choice.
 */
public final class SlotFeasibility {

  /** One device of one node that could host the slot. */
  public record Candidate(String nodeId, Device device) {}

  /**
   * What the slot needs.
   *
   * @param memoryMib the model's memory estimate (weights, KV cache, compute, engine overhead)
   * @param minComputeCapability lowest CUDA compute capability that runs the model's tensor types; empty: any
   * @param cpuAllowed whether the engine can run the model on a CPU device
   * @param extensions features the pool needs from the engine (e.g. {@code grammar}, {@code embeddings})
   */
  public record Requirements(long memoryMib, String minComputeCapability, boolean cpuAllowed, Set<String> extensions) {}

  public record Verdict(Candidate candidate, List<String> reasons) {
    public boolean feasible() {
      return reasons.isEmpty();
    }

    @Override
    public String toString() {
      return candidate.nodeId() + "/" + candidate.device().id() + (feasible() ? ": feasible" : ": " + String.join("; ", reasons));
    }
  }

  private SlotFeasibility() {}

  public static List<Verdict> evaluate(Requirements r, List<Candidate> candidates, Set<String> engineExtensions) {
    return evaluate(r, candidates, engineExtensions, java.util.Map.of());
  }

  /**
   * @param reservedMib memory already promised to slots placed on a device but not loaded yet, by
   *     {@link #deviceKey}: it is not free any more, whatever the device reported
   */
  public static List<Verdict> evaluate(Requirements r, List<Candidate> candidates, Set<String> engineExtensions,
      java.util.Map<String, Long> reservedMib) {
    var out = new ArrayList<Verdict>(candidates.size());
    for (Candidate c : candidates) {
      var reasons = new ArrayList<String>();
      Device d = c.device();
      long reserved = reservedMib.getOrDefault(deviceKey(c), 0L);
      long free = d.memoryFreeMib() - reserved;
      if (free < r.memoryMib()) {
        reasons.add("needs " + r.memoryMib() + " MiB, device has " + free + " MiB free"
            + (reserved > 0 ? " (" + reserved + " MiB promised to slots placed there)" : ""));
      }
      if (Device.CPU.equals(d.kind()) && !r.cpuAllowed()) reasons.add("the engine cannot run this model on a CPU device");
      if (Device.CUDA.equals(d.kind()) && !r.minComputeCapability().isEmpty()
          && compareCapability(d.computeCapability(), r.minComputeCapability()) < 0) {
        reasons.add("needs compute capability " + r.minComputeCapability() + ", device has " + d.computeCapability());
      }
      for (String ext : r.extensions()) if (!engineExtensions.contains(ext)) reasons.add("the engine lacks extension '" + ext + "'");
      out.add(new Verdict(c, List.copyOf(reasons)));
    }
    return out;
  }

  /** How {@code reservedMib} names a device: node id and device id. */
  public static String deviceKey(Candidate c) {
    return c.nodeId() + "/" + c.device().id();
  }

  /**
   * The best feasible candidate for a new slot, or a typed {@code no_feasible_slot} error that lists
   * every candidate and why it failed.
   */
  public static Candidate placeOrExplain(String what, Requirements r, List<Candidate> candidates, Set<String> engineExtensions,
      java.util.Map<String, Long> reservedMib) {
    var verdicts = evaluate(r, candidates, engineExtensions, reservedMib);
    return choose(verdicts).orElseThrow(() -> new io.dalang.protocols.error.DalangException(
        io.dalang.protocols.error.ErrorCode.NO_FEASIBLE_SLOT, candidates.isEmpty()
            ? "no device is registered to host " + what
            : "no device can host " + what + " (needs about " + r.memoryMib() + " MiB): "
                + String.join(" | ", verdicts.stream().map(Verdict::toString).toList())));
  }

  /** The best feasible candidate, or empty when none is. */
  public static Optional<Candidate> choose(List<Verdict> verdicts) {
    return verdicts.stream().filter(Verdict::feasible).map(Verdict::candidate)
        .max(Comparator.comparingLong((Candidate c) -> c.device().memoryFreeMib())
            .thenComparing(Candidate::nodeId, Comparator.reverseOrder())
            .thenComparing(c -> c.device().id(), Comparator.reverseOrder()));
  }

  /** Compares "8.6" with "9.0" numerically, major then minor; a missing capability is lowest. */
  static int compareCapability(String a, String b) {
    int[] x = parse(a);
    int[] y = parse(b);
    return x[0] != y[0] ? Integer.compare(x[0], y[0]) : Integer.compare(x[1], y[1]);
  }

  private static int[] parse(String cc) {
    try {
      String[] p = cc.strip().split("\\.");
      return new int[] {Integer.parseInt(p[0]), p.length > 1 ? Integer.parseInt(p[1]) : 0};
    } catch (RuntimeException e) {
      return new int[] {-1, -1};
    }
  }
}
