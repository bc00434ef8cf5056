package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** The non-streaming answer of {@code /v1/chat/completions}. */
public record ChatCompletion(
    String id,
    String object,
    long created,
    String model,
    List<Choice> choices,
    ApiUsage usage,
    @JsonProperty("system_fingerprint") String systemFingerprint) {

  public record Choice(
      int index,
      AssistantMessage message,
      Object logprobs,
      @JsonProperty("finish_reason") String finishReason) {}

  /** {@code content} is null (and sent as null) when the turn only calls tools. */
  public record AssistantMessage(String role, String content,
      @JsonInclude(JsonInclude.Include.NON_NULL) @JsonProperty("tool_calls") List<ToolCalls.Call> toolCalls) {

    public AssistantMessage(String role, String content) {
      this(role, content, null);
    }
  }
}
