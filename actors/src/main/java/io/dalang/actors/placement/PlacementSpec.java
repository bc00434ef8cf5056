package io.dalang.actors.placement;

import io.dalang.protocols.CborSerializable;
import java.util.Set;
import java.util.TreeSet;

/**
 * What placement needs to know about a run.
 *
 * @param pools the pools the tenant may use
 * @param promptTokens the prompt's length in tokens, a lower bound when it was estimated
 * @param maxTokens the run's token budget
 * @param extensions engine features the run needs (e.g. {@code grammar}, {@code logprobs}); empty: none
 * @param minComputeCapability the lowest CUDA compute capability the run accepts; empty: any device
 * @param quantizations model file types the run accepts (e.g. {@code Q8_0}, {@code F16}); empty: any
 */
public record PlacementSpec(String modelId, Set<String> pools, int promptTokens, int maxTokens, Set<String> extensions,
    String minComputeCapability, Set<String> quantizations) implements CborSerializable {

  public PlacementSpec {
    pools = Set.copyOf(new TreeSet<>(pools));
    extensions = Set.copyOf(extensions);
    quantizations = Set.copyOf(quantizations);
    minComputeCapability = minComputeCapability == null ? "" : minComputeCapability;
  }

  /** A plain run: the model, the tenant's pools and its token counts, nothing else required. */
  public static PlacementSpec of(String modelId, Set<String> pools, int promptTokens, int maxTokens) {
    return new PlacementSpec(modelId, pools, promptTokens, maxTokens, Set.of(), "", Set.of());
  }

  /** Tokens of context the run needs in one sequence: prompt plus budget. */
  public int contextTokens() {
    return promptTokens + maxTokens;
  }

  /**
   * The part of the spec that decides which slots can serve it, with the context rounded up to a power
   * of two: specs of one class have the same candidates, so a decision's filtering is cached per class.
   */
  public Requirements requirements() {
    return new Requirements(modelId, pools, contextBucket(contextTokens()), extensions, minComputeCapability, quantizations);
  }

  /** The smallest power of two that is at least {@code tokens} (1 for 0 or less). */
  static int contextBucket(int tokens) {
    return tokens <= 1 ? 1 : Integer.highestOneBit(tokens - 1) << 1;
  }

  /**
   * A class of specs with the same structural requirements. {@link #hash()} is the {@code job_spec_hash}
   * that placement narration shows: stable across runs and JVMs (no identity hashes).
   */
  public record Requirements(String modelId, Set<String> pools, int contextBucket, Set<String> extensions,
      String minComputeCapability, Set<String> quantizations) {

    /** Slots with less context per sequence than this fail every spec of the class. */
    int contextFloor() {
      return contextBucket / 2 + 1;
    }

    public String hash() {
      long h = 0xcbf29ce484222325L;
      for (String part : new String[] {modelId, String.join(",", new TreeSet<>(pools)), Integer.toString(contextBucket),
          String.join(",", new TreeSet<>(extensions)), minComputeCapability, String.join(",", new TreeSet<>(quantizations))}) {
        for (int i = 0; i < part.length(); i++) {
          h ^= part.charAt(i);
          h *= 0x100000001b3L;
        }
        h ^= 0x1f;
        h *= 0x100000001b3L;
      }
      return String.format("%016x", h);
    }
  }
}
