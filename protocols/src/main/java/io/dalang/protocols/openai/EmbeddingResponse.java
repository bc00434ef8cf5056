package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * OpenAI's answer to {@code POST /v1/embeddings}: one {@code data} entry per input, in the input's
 * order, the vector as floats or (asked with {@code encoding_format: base64}) as the base64 of its
 * little-endian float32 bytes, which is what OpenAI sends.
 */
public record EmbeddingResponse(String object, List<Entry> data, String model, Usage usage) {

  /** @param embedding a {@code float[]} or a base64 string */
  public record Entry(String object, int index, Object embedding) {}

  /** Embeddings count only prompt tokens. */
  public record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("total_tokens") int totalTokens) {}

  public static EmbeddingResponse of(String model, List<float[]> vectors, boolean base64, int promptTokens) {
    var data = new ArrayList<Entry>(vectors.size());
    for (int i = 0; i < vectors.size(); i++) {
      data.add(new Entry("embedding", i, base64 ? base64(vectors.get(i)) : vectors.get(i)));
    }
    return new EmbeddingResponse("list", data, model, new Usage(promptTokens, promptTokens));
  }

  static String base64(float[] v) {
    var b = ByteBuffer.allocate(v.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) b.putFloat(f);
    return Base64.getEncoder().encodeToString(b.array());
  }
}
