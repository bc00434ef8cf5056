package io.dalang.gguf;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A parsed GGUF header: metadata and tensor table, no weights. The accessors read the
 * architecture-prefixed keys llama.cpp uses ({@code llama.context_length}, ...).
 */
public record GgufFile(int version, Map<String, Object> metadata, List<TensorInfo> tensors, long dataOffset) {

  public String architecture() {
    return string("general.architecture").orElse("unknown");
  }

  public Optional<String> string(String key) {
    return metadata.get(key) instanceof String s ? Optional.of(s) : Optional.empty();
  }

  public Optional<Long> integer(String key) {
    return metadata.get(key) instanceof Number n && !(n instanceof Float || n instanceof Double)
        ? Optional.of(n.longValue())
        : Optional.empty();
  }

  private long archInt(String suffix, long dflt) {
    return integer(architecture() + "." + suffix).orElse(dflt);
  }

  public long contextLength() {
    return archInt("context_length", 0);
  }

  public long embeddingLength() {
    return archInt("embedding_length", 0);
  }

  public long blockCount() {
    return archInt("block_count", 0);
  }

  public long feedForwardLength() {
    return archInt("feed_forward_length", 0);
  }

  public long headCount() {
    return archInt("attention.head_count", 0);
  }

  public long headCountKv() {
    return archInt("attention.head_count_kv", headCount());
  }

  /** {@code general.file_type} (llama.cpp's {@code llama_ftype}); -1 when absent. */
  public long fileType() {
    return integer("general.file_type").orElse(-1L);
  }

  public long vocabularySize() {
    return metadata.get("tokenizer.ggml.tokens") instanceof List<?> l ? l.size() : 0;
  }

  /** Sum of all tensor sizes: the bytes the weights take once loaded. */
  public long tensorBytes() {
    return tensors.stream().mapToLong(TensorInfo::bytes).sum();
  }
}
