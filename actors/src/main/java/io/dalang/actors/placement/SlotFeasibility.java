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
 *
 * <p>On a GPU device the model goes as a whole when it fits; when it does not and the pool allows a
 * partial offload, as many layers as fit go to the device (the rest stays on the CPU), so the verdict
 * carries the layer count and the device memory it takes. A device of a kind the engine cannot drive
 * (a GPU for the CPU-only in-process engine) is infeasible.
 *
 * <p>Among feasible devices the one that holds the largest share of the model wins (a full offload over
 * a partial one over the CPU), then the one with the most free memory; ties go to the lowest node and
 * device id, so the same fleet and requirements always give the same choice.
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
   * @param offload the model's device memory per layer, for GPU devices; null: the whole {@code memoryMib} or nothing
   * @param partialOffload whether a GPU device that holds only some of the layers is acceptable
   * @param deviceKinds the device kinds the engine can drive ({@code cpu}, {@code vulkan}, ...)
   */
  public record Requirements(long memoryMib, String minComputeCapability, boolean cpuAllowed, Set<String> extensions,
      io.dalang.gguf.OffloadProfile offload, boolean partialOffload, Set<String> deviceKinds) {

    /** Any device kind, the whole model or nothing. */
    public Requirements(long memoryMib, String minComputeCapability, boolean cpuAllowed, Set<String> extensions) {
      this(memoryMib, minComputeCapability, cpuAllowed, extensions, null, false, ALL_DEVICE_KINDS);
    }
  }

  /** Every device kind Dalang knows. */
  public static final Set<String> ALL_DEVICE_KINDS = Set.of(Device.CPU, Device.CUDA, Device.VULKAN, Device.ROCM);

  /**
   * @param gpuLayers layers that go to the device when it is a GPU (0 on the CPU, or when infeasible)
   * @param memoryMib what the slot takes on the device
   */
  public record Verdict(Candidate candidate, List<String> reasons, int gpuLayers, long memoryMib, double share) {
    public boolean feasible() {
      return reasons.isEmpty();
    }

    @Override
    public String toString() {
      String where = candidate.nodeId() + "/" + candidate.device().id();
      if (!feasible()) return where + ": " + String.join("; ", reasons);
      return where + ": feasible" + (gpuLayers > 0 ? " (" + gpuLayers + " layers on the device" + (share < 1 ? ", partial" : "") + ")" : "");
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
      String promised = reserved > 0 ? " (" + reserved + " MiB promised to slots placed there)" : "";
      int layers = 0;
      long need = r.memoryMib();
      double share = 0;
      if (!r.deviceKinds().contains(d.kind())) {
        reasons.add("the engine cannot drive a " + d.kind() + " device" + (r.deviceKinds().equals(Set.of(Device.CPU)) ? " (it runs on the CPU only)" : ""));
      } else if (d.gpu() && r.offload() != null) {
        var o = r.offload();
        long full = o.deviceMib(o.layers());
        int fit = o.layersWithin(free);
        if (fit == o.layers()) {
          layers = fit;
          need = full;
          share = 1;
        } else if (r.partialOffload() && fit > 0) {
          layers = fit;
          need = o.deviceMib(fit);
          share = (double) fit / o.layers();
        } else {
          reasons.add("needs " + full + " MiB for all " + o.layers() + " layers, device has " + free + " MiB free" + promised
              + (r.partialOffload() ? "; not even one layer fits" : "; the pool wants a full offload (gpu_offload: full)"));
        }
      } else {
        if (free < r.memoryMib()) reasons.add("needs " + r.memoryMib() + " MiB, device has " + free + " MiB free" + promised);
        if (d.gpu()) {
          layers = io.dalang.gguf.OffloadProfile.ALL_LAYERS;
          share = 1;
        }
      }
      if (Device.CPU.equals(d.kind()) && !r.cpuAllowed()) reasons.add("the engine cannot run this model on a CPU device");
      if (Device.CUDA.equals(d.kind()) && !r.minComputeCapability().isEmpty()
          && compareCapability(d.computeCapability(), r.minComputeCapability()) < 0) {
        reasons.add("needs compute capability " + r.minComputeCapability() + ", device has " + d.computeCapability());
      }
      for (String ext : r.extensions()) if (!engineExtensions.contains(ext)) reasons.add("the engine lacks extension '" + ext + "'");
      boolean ok = reasons.isEmpty();
      out.add(new Verdict(c, List.copyOf(reasons), ok ? layers : 0, ok ? need : 0, ok ? share : 0));
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
    return decideOrExplain(what, r, candidates, engineExtensions, reservedMib).candidate();
  }

  /** Like {@link #placeOrExplain}, with the verdict: layers on the device and the memory they take. */
  public static Verdict decideOrExplain(String what, Requirements r, List<Candidate> candidates, Set<String> engineExtensions,
      java.util.Map<String, Long> reservedMib) {
    var verdicts = evaluate(r, candidates, engineExtensions, reservedMib);
    return best(verdicts).orElseThrow(() -> new io.dalang.protocols.error.DalangException(
        io.dalang.protocols.error.ErrorCode.NO_FEASIBLE_SLOT, candidates.isEmpty()
            ? "no device is registered to host " + what
            : "no device can host " + what + " (needs about " + r.memoryMib() + " MiB): "
                + String.join(" | ", verdicts.stream().map(Verdict::toString).toList())));
  }

  /** The best feasible candidate, or empty when none is. */
  public static Optional<Candidate> choose(List<Verdict> verdicts) {
    return best(verdicts).map(Verdict::candidate);
  }

  /** The best feasible verdict: the largest share of the model on the device, then the most free memory, then the lowest ids. */
  public static Optional<Verdict> best(List<Verdict> verdicts) {
    return verdicts.stream().filter(Verdict::feasible)
        .max(Comparator.comparingDouble(Verdict::share)
            .thenComparingLong(v -> v.candidate().device().memoryFreeMib())
            .thenComparing(v -> v.candidate().nodeId(), Comparator.reverseOrder())
            .thenComparing(v -> v.candidate().device().id(), Comparator.reverseOrder()));
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
