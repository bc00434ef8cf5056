package io.dalang.gguf;

/**
 * Estimates the memory llama.cpp needs for a GGUF model at a given context, from the file's header
 * alone, before anything is loaded.
 *
 * <ul>
 *   <li>Weights: the sum of the tensor sizes, which is what llama.cpp maps.
 *   <li>KV cache: {@code layers × total context × kv heads × head dim × 2 (K and V) × 2 bytes (f16)}.
 *   <li>Compute buffers: the largest graph of one micro-batch; bounded here by
 *       {@code ubatch × 4 bytes × (4 × feed-forward + 2 × embedding)} for the FFN and residual
 *       activations, plus the attention mask {@code ubatch × context per sequence × 2 bytes}.
 *   <li>Overhead: what the backend adds on its own (CUDA context, etc.), given by the caller.
 * </ul>
 *
 * <p>Weights and KV cache match llama.cpp's own buffer sizes exactly; the compute term errs high, so
 * the total over-estimates by at most 25% (checked against llama-server's logged buffers in
 * {@code MemoryEstimatorTest}). Over, never under: an under-estimate is an out-of-memory crash.
 */
public final class MemoryEstimator {
  public static final int DEFAULT_UBATCH = 512;
  static final int KV_BYTES_PER_ELEMENT = 2; // llama.cpp's default f16 cache

  private MemoryEstimator() {}

  public static MemoryEstimate estimate(GgufFile f, int contextPerSequence, int parallel, long overheadBytes) {
    return estimate(f, contextPerSequence, parallel, DEFAULT_UBATCH, overheadBytes);
  }

  public static MemoryEstimate estimate(GgufFile f, int contextPerSequence, int parallel, int ubatch, long overheadBytes) {
    long totalContext = (long) contextPerSequence * parallel;
    long heads = Math.max(1, f.headCount());
    long headDim = f.integer(f.architecture() + ".attention.key_length").orElse(f.embeddingLength() / heads);
    long kvDim = f.headCountKv() * headDim;
    long kv = f.blockCount() * totalContext * kvDim * 2 * KV_BYTES_PER_ELEMENT;
    long batch = Math.min(ubatch, totalContext);
    long activations = batch * 4L * (4 * f.feedForwardLength() + 2 * f.embeddingLength());
    long mask = batch * contextPerSequence * 2L;
    return new MemoryEstimate(f.tensorBytes(), kv, activations + mask, overheadBytes);
  }
}
