package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/** {@code POST /v1/embeddings}: {@code input} is a string or an array of strings. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record EmbeddingRequest(
    String model,
    JsonNode input,
    @JsonProperty("encoding_format") String encodingFormat,
    Integer dimensions,
    String user) {}
