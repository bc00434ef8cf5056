package io.dalang.protocols.openai;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The answer to {@code POST /v1/rerank}, as llama-server gives it: the {@code top_n} best documents,
 * most relevant first, each with its index in the request's {@code documents} and its score (and the
 * document itself when {@code return_documents} asked for it).
 */
public record RerankResponse(String object, String model, List<Result> results, Usage usage) {

  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Result(int index, @JsonProperty("relevance_score") double relevanceScore, Document document) {}

  public record Document(String text) {}

  public record Usage(@JsonProperty("prompt_tokens") int promptTokens, @JsonProperty("total_tokens") int totalTokens) {}

  /** Scores in document order, ranked; ties keep the documents' order. */
  public static RerankResponse of(String model, List<String> documents, List<Double> scores, int topN, boolean returnDocuments,
      int promptTokens) {
    var results = new ArrayList<Result>(scores.size());
    for (int i = 0; i < scores.size(); i++) {
      results.add(new Result(i, scores.get(i), returnDocuments ? new Document(documents.get(i)) : null));
    }
    results.sort(Comparator.comparingDouble(Result::relevanceScore).reversed());
    return new RerankResponse("list", model, List.copyOf(results.subList(0, Math.min(topN, results.size()))),
        new Usage(promptTokens, promptTokens));
  }
}
