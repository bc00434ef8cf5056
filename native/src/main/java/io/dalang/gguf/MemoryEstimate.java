package io.dalang.gguf;

/**
 * Memory one engine needs to serve a model: weights (exact, from the tensor table), KV cache (exact
 * for llama.cpp's f16 cache), compute buffers (an upper estimate) and a fixed engine overhead (e.g. the
 * CUDA context). See {@link MemoryEstimator}.
 */
public record MemoryEstimate(long weightsBytes, long kvCacheBytes, long computeBytes, long overheadBytes) {

  public long totalBytes() {
    return weightsBytes + kvCacheBytes + computeBytes + overheadBytes;
  }

  public long totalMib() {
    return (totalBytes() + (1 << 20) - 1) >> 20;
  }
}
