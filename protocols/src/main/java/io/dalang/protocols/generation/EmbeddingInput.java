package io.dalang.protocols.generation;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.dalang.protocols.CborSerializable;
import java.util.List;

/**
 * What an embedding or rerank run is asked, in canonical form: texts to embed, or a query and the
 * documents to score against it. Validated at the edge ({@code EmbeddingValidation}).
 *
 * @param query the rerank query; null for embeddings
 * @param texts the inputs to embed, or the documents to score, in the client's order (never empty)
 * @param dimensions the vector width the client asked for; 0: the model's own. The engine refuses any
 *     other width than its model's: Dalang does not cut vectors of models it cannot tell were trained for it
 */
public record EmbeddingInput(String query, List<String> texts, int dimensions) implements CborSerializable {

  public EmbeddingInput {
    texts = List.copyOf(texts);
  }

  public static EmbeddingInput embed(List<String> texts, int dimensions) {
    return new EmbeddingInput(null, texts, dimensions);
  }

  public static EmbeddingInput rerank(String query, List<String> documents) {
    return new EmbeddingInput(query, documents, 0);
  }

  @JsonIgnore
  public RunTask task() {
    return query == null ? RunTask.EMBED : RunTask.RERANK;
  }
}
