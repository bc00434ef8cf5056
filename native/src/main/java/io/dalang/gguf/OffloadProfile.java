package io.dalang.gguf;

import java.util.Arrays;

/**
 * How much device memory each offloadable layer of a model takes, so that placement can say how many
 * layers fit a GPU device when the whole model does not. llama.cpp offloads the repeating blocks (each
 * with its share of the KV cache) and, as one more layer, the output head; the token embeddings stay on
 * the CPU (a model without its own {@code output.weight} gets them a second time as its output head).
 * A device that holds any layer also holds the compute buffer and the backend's overhead.
 *
 * <p>With {@code -ngl n} the pinned llama.cpp (de3ff81) puts layers {@code n_layer + 1 - n} and up on the
 * device: the output head first, then the blocks from the top ({@link #deviceBytes}). Older revisions
 * counted without the output head, one layer apart.
 *
 * @param layerBytes device bytes of each offloadable layer, blocks first, the output head last
 * @param computeBytes the compute buffer (the estimator's upper bound)
 * @param overheadBytes what the backend adds on the device (its context, ...)
 */
public record OffloadProfile(long[] layerBytes, long computeBytes, long overheadBytes) {

  /** llama.cpp's "every layer": more than any model has. */
  public static final int ALL_LAYERS = 999;

  public OffloadProfile {
    layerBytes = layerBytes.clone();
  }

  /** From a GGUF header at a context and parallelism, with the same KV and compute terms as {@link MemoryEstimator}. */
  public static OffloadProfile of(GgufFile f, int contextPerSequence, int parallel, long overheadBytes) {
    MemoryEstimate whole = MemoryEstimator.estimate(f, contextPerSequence, parallel, overheadBytes);
    int blocks = (int) f.blockCount();
    long kvPerBlock = blocks == 0 ? 0 : whole.kvCacheBytes() / blocks;
    long[] layers = new long[blocks + 1];
    boolean ownOutput = f.tensors().stream().anyMatch(t -> t.name().equals("output.weight"));
    for (TensorInfo t : f.tensors()) {
      String n = t.name();
      if (n.startsWith("blk.")) {
        int dot = n.indexOf('.', 4);
        int i = dot < 0 ? -1 : parseIndex(n.substring(4, dot));
        if (i >= 0 && i < blocks) layers[i] += t.bytes();
      } else if (n.startsWith("output")) {
        layers[blocks] += t.bytes(); // output.weight and output_norm.weight
      } else if (!ownOutput && n.equals("token_embd.weight")) {
        // Tied embeddings: llama.cpp loads token_embd a second time as the output head, on the output layer's device.
        layers[blocks] += t.bytes();
      }
    }
    for (int i = 0; i < blocks; i++) layers[i] += kvPerBlock;
    return new OffloadProfile(layers, whole.computeBytes(), overheadBytes);
  }

  private static int parseIndex(String s) {
    try {
      return Integer.parseInt(s);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** Offloadable layers: the blocks and the output head. */
  public int layers() {
    return layerBytes.length;
  }

  /** Device memory with {@code n} layers offloaded (all of them when {@code n >= layers()}); 0 for none. */
  public long deviceBytes(int n) {
    int k = Math.min(Math.max(n, 0), layers());
    if (k == 0) return 0;
    long sum = computeBytes + overheadBytes;
    // llama.cpp offloads the last layers first: the output head, then the blocks from the top.
    for (int i = layers() - k; i < layers(); i++) sum += layerBytes[i];
    return sum;
  }

  public long deviceMib(int n) {
    return (deviceBytes(n) + (1 << 20) - 1) >> 20;
  }

  /** The most layers that fit in {@code freeMib} of device memory (0 when not even one does). */
  public int layersWithin(long freeMib) {
    int n = 0;
    while (n < layers() && deviceMib(n + 1) <= freeMib) n++;
    return n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OffloadProfile p && Arrays.equals(layerBytes, p.layerBytes) && computeBytes == p.computeBytes
        && overheadBytes == p.overheadBytes;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(layerBytes) * 31 + Long.hashCode(computeBytes) * 7 + Long.hashCode(overheadBytes);
  }

  @Override
  public String toString() {
    return "OffloadProfile" + Arrays.toString(layerBytes) + " compute " + computeBytes + " overhead " + overheadBytes;
  }
}
