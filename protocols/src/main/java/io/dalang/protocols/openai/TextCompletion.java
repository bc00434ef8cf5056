package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The answer of {@code /v1/completions}, and (with {@code usage} null until the last one) each SSE
 * chunk of its streaming form: OpenAI uses the same shape for both.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TextCompletion(
    String id,
    String object,
    long created,
    String model,
    List<Choice> choices,
    ApiUsage usage,
    @JsonProperty("system_fingerprint") String systemFingerprint) {

  @JsonInclude(JsonInclude.Include.ALWAYS)
  public record Choice(String text, int index, Object logprobs, @JsonProperty("finish_reason") String finishReason) {}
}
