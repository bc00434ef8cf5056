package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** One SSE chunk of a streaming {@code /v1/chat/completions}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ChatCompletionChunk(
    String id,
    String object,
    long created,
    String model,
    List<Choice> choices,
    ApiUsage usage,
    @JsonProperty("system_fingerprint") String systemFingerprint) {

  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Choice(int index, Delta delta, Object logprobs, @JsonProperty("finish_reason") String finishReason) {}

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Delta(String role, String content, @JsonProperty("tool_calls") List<ToolCalls.Piece> toolCalls) {

    public Delta(String role, String content) {
      this(role, content, null);
    }
  }
}
