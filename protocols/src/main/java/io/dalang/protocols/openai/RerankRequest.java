package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * {@code POST /v1/rerank}, the Jina/Cohere shape that llama-server serves: a query, the documents to
 * score against it (strings), and how many of the best to return.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RerankRequest(
    String model,
    String query,
    JsonNode documents,
    @JsonProperty("top_n") Integer topN,
    @JsonProperty("return_documents") Boolean returnDocuments) {}
