package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * {@code POST /v1/chat/completions} as the OpenAI clients send it. Fields Dalang acts on are validated
 * by {@link RequestValidation}; fields it cannot honour yet (tools, structured output, logprobs,
 * penalties) are read only to be rejected when set, never silently dropped; the rest (metadata, user,
 * store, ...) do not change the answer and are ignored.
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
    JsonNode functions,
    @JsonProperty("function_call") JsonNode functionCall,
    @JsonProperty("response_format") JsonNode responseFormat,
    Boolean logprobs,
    @JsonProperty("top_logprobs") Integer topLogprobs,
    @JsonProperty("presence_penalty") Double presencePenalty,
    @JsonProperty("frequency_penalty") Double frequencyPenalty) {

  /** One message; {@code content} is a string or an array of content parts. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record Message(String role, JsonNode content, String name) {}

  @JsonIgnoreProperties(ignoreUnknown = true)
  public record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage) {}
}
