package io.dalang.protocols.openai;

import static io.dalang.protocols.openai.RequestValidation.invalid;
import static io.dalang.protocols.openai.RequestValidation.overCap;
import static io.dalang.protocols.openai.RequestValidation.unsupported;
import static io.dalang.protocols.openai.RequestValidation.utf8Length;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.generation.EmbeddingInput;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns {@code /v1/embeddings} and {@code /v1/rerank} bodies into Dalang's canonical
 * {@link GenerationRequest} (with an {@link EmbeddingInput}), or throws a typed 400 naming the field.
 * The {@link RequestLimits} bound them: inputs ({@code embedding-inputs}), documents
 * ({@code rerank-documents}) and their bytes together ({@code prompt-bytes}). Whether the model's pool
 * embeds or reranks at all is placement's to say, where the pool is known.
 */
public final class EmbeddingValidation {

  /** A validated embedding request; {@code base64}: {@code encoding_format: base64}. */
  public record Embeddings(String model, GenerationRequest generation, boolean base64) {}

  /** A validated rerank request: how many results to return, and whether with their documents. */
  public record Rerank(String model, GenerationRequest generation, int topN, boolean returnDocuments) {}

  private EmbeddingValidation() {}

  public static Embeddings embeddings(EmbeddingRequest r, String runId, RequestLimits limits) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = model(r.model());
    List<String> inputs = texts(r.input(), "input", limits.embeddingInputs(), "embedding-inputs");
    bytes("input", inputs, null, limits);
    boolean base64 = switch (r.encodingFormat() == null ? "float" : r.encodingFormat()) {
      case "float" -> false;
      case "base64" -> true;
      default -> throw invalid("'encoding_format' must be 'float' or 'base64'", "encoding_format");
    };
    if (r.dimensions() != null && r.dimensions() < 1) throw invalid("'dimensions' must be at least 1", "dimensions");
    int dimensions = r.dimensions() == null ? 0 : r.dimensions();
    return new Embeddings(model, GenerationRequest.of(runId, EmbeddingInput.embed(inputs, dimensions)), base64);
  }

  public static Rerank rerank(RerankRequest r, String runId, RequestLimits limits) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = model(r.model());
    if (r.query() == null || r.query().isEmpty()) throw invalid("'query' is required and must be a non-empty string", "query");
    List<String> documents = texts(r.documents(), "documents", limits.rerankDocuments(), "rerank-documents");
    bytes("documents", documents, r.query(), limits);
    if (r.topN() != null && r.topN() < 1) throw invalid("'top_n' must be at least 1", "top_n");
    int topN = r.topN() == null ? documents.size() : Math.min(r.topN(), documents.size());
    return new Rerank(model, GenerationRequest.of(runId, EmbeddingInput.rerank(r.query(), documents)), topN,
        Boolean.TRUE.equals(r.returnDocuments()));
  }

  private static String model(String model) {
    if (model == null || model.isBlank()) throw invalid("'model' is required", "model");
    return model;
  }

  /**
   * A string or a non-empty array of non-empty strings. Token arrays (OpenAI also takes those) are refused
   * by name: Dalang's edges speak text, and a token id means nothing without the pool's vocabulary.
   */
  private static List<String> texts(JsonNode n, String field, int cap, String capKey) {
    if (n == null || n.isNull()) throw invalid("'" + field + "' is required", field);
    if (n.isTextual()) return List.of(nonEmpty(n.textValue(), field));
    if (!n.isArray() || n.isEmpty()) throw invalid("'" + field + "' must be a string or a non-empty array of strings", field);
    if (n.size() > cap) throw overCap(field, "'" + field + "' has " + n.size() + " entries", cap + " (" + capKey + ")");
    var out = new ArrayList<String>(n.size());
    for (int i = 0; i < n.size(); i++) {
      JsonNode e = n.get(i);
      if (e.isNumber() || e.isArray()) throw unsupported(field, "'" + field + "' as token ids is not supported; send text");
      if (!e.isTextual()) throw invalid("'" + field + "[" + i + "]' must be a string", field);
      out.add(nonEmpty(e.textValue(), field + "[" + i + "]"));
    }
    return List.copyOf(out);
  }

  private static String nonEmpty(String s, String field) {
    if (s.isEmpty()) throw invalid("'" + field + "' must not be empty", field.replaceAll("\\[.*", ""));
    return s;
  }

  private static void bytes(String field, List<String> texts, String query, RequestLimits limits) {
    long bytes = utf8Length(query);
    for (String t : texts) bytes += utf8Length(t);
    if (bytes > limits.promptBytes()) throw overCap(field, "the " + field + " are " + bytes + " bytes (UTF-8)", limits.promptBytes() + " bytes");
  }
}
