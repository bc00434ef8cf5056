package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/chat/completions} as the OpenAI clients send it. Fields Dalang acts on are validated
 * by {@link RequestValidation}; fields it cannot honour (the deprecated {@code functions}) are read only
 * to be rejected when set, never silently dropped; the rest (metadata, user, store, ...) do not change
 * the answer and are ignored.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ChatCompletionRequest(
    String model,
    List<Message> messages,
    Boolean stream,
    @JsonProperty("stream_options") StreamOptions streamOptions,
    @JsonProperty("max_tokens") Integer maxTokens,
    @JsonProperty("max_completion_tokens") Integer maxCompletionTokens,
    Double temperature,
    @JsonProperty("top_p") Double topP,
    Long seed,
    JsonNode stop,
    Integer n,
    String user,
    JsonNode tools,
    @JsonProperty("tool_choice") JsonNode toolChoice,
    @JsonProperty("parallel_tool_calls") Boolean parallelToolCalls,
    JsonNode functions,
    @JsonProperty("function_call") JsonNode functionCall,
    @JsonProperty("response_format") JsonNode responseFormat,
    Boolean logprobs,
    @JsonProperty("top_logprobs") Integer topLogprobs,
    @JsonProperty("presence_penalty") Double presencePenalty,
    @JsonProperty("frequency_penalty") Double frequencyPenalty,
    @JsonProperty("logit_bias") JsonNode logitBias) {

  /**
   * One message; {@code content} is a string or an array of content parts. An assistant turn may carry
   * the {@code tool_calls} it made, a {@code tool} turn answers the call {@code tool_call_id}.
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Message(String role, JsonNode content, String name, @JsonProperty("tool_calls") JsonNode toolCalls,
      @JsonProperty("tool_call_id") String toolCallId) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {}
}
