package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/** {@code POST /v1/completions} (the legacy text completion API). {@code prompt} is a string. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CompletionRequest(
    String model,
    JsonNode prompt,
    Boolean stream,
    @JsonProperty("stream_options") ChatCompletionRequest.StreamOptions streamOptions,
    @JsonProperty("max_tokens") Integer maxTokens,
    Double temperature,
    @JsonProperty("top_p") Double topP,
    Long seed,
    JsonNode stop,
    Integer n,
    Boolean echo,
    String user,
    Integer logprobs,
    String suffix,
    @JsonProperty("best_of") Integer bestOf,
    @JsonProperty("presence_penalty") Double presencePenalty,
    @JsonProperty("frequency_penalty") Double frequencyPenalty,
    @JsonProperty("logit_bias") JsonNode logitBias) {}
