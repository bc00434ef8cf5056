package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.dalang.protocols.generation.Usage;

/** OpenAI's {@code usage} object. */
public record ApiUsage(
    @JsonProperty("prompt_tokens") int promptTokens,
    @JsonProperty("completion_tokens") int completionTokens,
    @JsonProperty("total_tokens") int totalTokens) {

  public static ApiUsage of(Usage u) {
    return new ApiUsage(u.promptTokens(), u.completionTokens(), u.totalTokens());
  }
}
