package io.dalang.protocols.generation;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.dalang.protocols.CborSerializable;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a request asks of the engine beyond plain sampled text: tools, a constrained output format,
 * log probabilities, several choices, penalties and biases. Validated at the edge
 * ({@code RequestValidation}); JSON-valued options are kept as the client's JSON text, already checked,
 * so an engine that speaks OpenAI's wire format passes them on unchanged.
 *
 * @param tools the {@code tools} array (function definitions) as JSON text; null: none
 * @param toolChoice {@code "none"}, {@code "auto"}, {@code "required"} or a named function as JSON text; null: the
 *     engine's default ({@code auto} when tools are given)
 * @param parallelToolCalls whether the model may call several tools in one turn; null: the engine's default
 * @param responseFormat the {@code response_format} object as JSON text ({@code json_object} or
 *     {@code json_schema}); null: free text
 * @param logprobs whether each token's log probability is returned
 * @param topLogprobs how many alternatives per token are returned with it (0 to 20)
 * @param choices how many independent choices to generate ({@code n}), at least 1
 * @param presencePenalty OpenAI's presence penalty, -2 to 2 (0: off)
 * @param frequencyPenalty OpenAI's frequency penalty, -2 to 2 (0: off)
 * @param logitBias token id to bias (-100 to 100); empty: none
 */
public record GenerationOptions(
    String tools,
    String toolChoice,
    Boolean parallelToolCalls,
    String responseFormat,
    boolean logprobs,
    int topLogprobs,
    int choices,
    double presencePenalty,
    double frequencyPenalty,
    Map<Integer, Double> logitBias)
    implements CborSerializable {

  /** Plain generation: one choice, nothing else asked. */
  public static final GenerationOptions NONE = new GenerationOptions(null, null, null, null, false, 0, 1, 0, 0, Map.of());

  /** The engine calls the tools of a request ({@code tools}, through the model's chat template). */
  public static final String TOOLS = "tools";
  /** The engine constrains output to a grammar ({@code response_format}: JSON or a JSON schema). */
  public static final String GRAMMAR = "grammar";
  /** The engine returns log probabilities ({@code logprobs}). */
  public static final String LOGPROBS = "logprobs";
  /** The engine generates several choices for one request ({@code n > 1}). */
  public static final String CHOICES = "choices";
  /** The engine computes embeddings ({@code /v1/embeddings}). */
  public static final String EMBEDDINGS = "embeddings";
  /** The engine scores documents against a query ({@code /v1/rerank}). */
  public static final String RERANK = "rerank";

  public GenerationOptions {
    if (choices < 1) throw new IllegalArgumentException("choices must be at least 1");
    logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
  }

  /** The engine features this request needs: placement sends it only to a slot whose engine has them all. */
  @JsonIgnore
  public Set<String> extensions() {
    var out = new TreeSet<String>();
    if (tools != null) out.add(TOOLS);
    if (responseFormat != null) out.add(GRAMMAR);
    if (logprobs) out.add(LOGPROBS);
    if (choices > 1) out.add(CHOICES);
    return Set.copyOf(out);
  }

  /** The request field that asks for {@code extension}, for an error that names it. */
  public static String parameterOf(String extension) {
    return switch (extension) {
      case TOOLS -> "tools";
      case GRAMMAR -> "response_format";
      case LOGPROBS -> "logprobs";
      case CHOICES -> "n";
      default -> extension;
    };
  }
}
