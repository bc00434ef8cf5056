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

  /**
   * The file type as llama.cpp names it ({@code F32}, {@code F16}, {@code Q8_0}, {@code Q4_K_M}, ...);
   * without {@code general.file_type}, the type of the token embedding tensor; {@code unknown} if neither.
   */
  public String fileTypeName() {
    long t = fileType();
    if (t >= 0 && t < FILE_TYPES.length && FILE_TYPES[(int) t] != null) return FILE_TYPES[(int) t];
    return tensors.stream().filter(ti -> ti.name().equals("token_embd.weight")).findFirst()
        .map(ti -> ti.type().name()).orElse("unknown");
  }

  // llama.cpp's enum llama_ftype (include/llama.h): the index is the value, gaps are retired types.
  private static final String[] FILE_TYPES = {
      "F32", "F16", "Q4_0", "Q4_1", null, null, null, "Q8_0", "Q5_0", "Q5_1", "Q2_K", "Q3_K_S", "Q3_K_M", "Q3_K_L",
      "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "IQ2_XXS", "IQ2_XS", "Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ1_S",
      "IQ4_NL", "IQ3_S", "IQ3_M", "IQ2_S", "IQ2_M", "IQ4_XS", "IQ1_M", "BF16", null, null, null, "TQ1_0", "TQ2_0", "MXFP4"};

  public long vocabularySize() {
    return metadata.get("tokenizer.ggml.tokens") instanceof List<?> l ? l.size() : 0;
  }

  /** Sum of all tensor sizes: the bytes the weights take once loaded. */
  public long tensorBytes() {
    return tensors.stream().mapToLong(TensorInfo::bytes).sum();
  }
}
