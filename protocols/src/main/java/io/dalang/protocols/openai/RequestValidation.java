package io.dalang.protocols.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Turns the OpenAI request records into Dalang's canonical {@link GenerationRequest}, or throws a
 * {@link DalangException} with {@link ErrorCode#INVALID_REQUEST} naming the offending field. Values
 * that OpenAI accepts but Dalang cannot honour (e.g. {@code n > 1}) are rejected, not ignored.
 */
public final class RequestValidation {

  /** A validated request: the model it names, whether to stream, and what to generate. */
  public record Validated(String model, boolean stream, GenerationRequest generation) {}

  static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
  static final int MAX_STOP_SEQUENCES = 4;

  private RequestValidation() {}

  public static Validated chat(ChatCompletionRequest r, String runId, int defaultMaxTokens) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = requireModel(r.model());
    if (r.messages() == null || r.messages().isEmpty()) {
      throw invalid("'messages' is required and must be a non-empty array");
    }
    List<ChatMessage> messages = new ArrayList<>(r.messages().size());
    for (int i = 0; i < r.messages().size(); i++) {
      messages.add(message(r.messages().get(i), i));
    }
    checkN(r.n());
    unsupported(r.tools() != null && !r.tools().isNull() && !(r.tools().isArray() && r.tools().isEmpty()), "tools", "function calling");
    unsupported(r.functions() != null && !r.functions().isNull(), "functions", "function calling");
    unsupported(r.functionCall() != null && !r.functionCall().isNull(), "function_call", "function calling");
    unsupported(r.toolChoice() != null && !r.toolChoice().isNull() && !"none".equals(r.toolChoice().asText()), "tool_choice", "function calling");
    unsupported(r.responseFormat() != null && !r.responseFormat().isNull() && !"text".equals(r.responseFormat().path("type").asText()),
        "response_format", "structured output");
    unsupported(Boolean.TRUE.equals(r.logprobs()) || r.topLogprobs() != null, "logprobs", "log probabilities");
    unsupported(nonZero(r.presencePenalty()), "presence_penalty", "penalties");
    unsupported(nonZero(r.frequencyPenalty()), "frequency_penalty", "penalties");
    Integer max = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
    var gen = new GenerationRequest(runId, null, List.copyOf(messages), maxTokens(max, defaultMaxTokens),
        temperature(r.temperature()), topP(r.topP()), r.seed(), stop(r.stop()));
    return new Validated(model, Boolean.TRUE.equals(r.stream()), gen);
  }

  public static Validated completion(CompletionRequest r, String runId, int defaultMaxTokens) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = requireModel(r.model());
    String prompt = prompt(r.prompt());
    checkN(r.n());
    if (Boolean.TRUE.equals(r.echo())) throw invalid("'echo' is not supported");
    unsupported(r.logprobs() != null && r.logprobs() > 0, "logprobs", "log probabilities");
    unsupported(r.suffix() != null && !r.suffix().isEmpty(), "suffix", "insertion");
    unsupported(r.bestOf() != null && r.bestOf() != 1, "best_of", "several candidates");
    unsupported(nonZero(r.presencePenalty()), "presence_penalty", "penalties");
    unsupported(nonZero(r.frequencyPenalty()), "frequency_penalty", "penalties");
    var gen = new GenerationRequest(runId, prompt, null, maxTokens(r.maxTokens(), defaultMaxTokens),
        temperature(r.temperature()), topP(r.topP()), r.seed(), stop(r.stop()));
    return new Validated(model, Boolean.TRUE.equals(r.stream()), gen);
  }

  private static String requireModel(String model) {
    if (model == null || model.isBlank()) throw invalid("'model' is required");
    return model;
  }

  private static ChatMessage message(ChatCompletionRequest.Message m, int i) {
    if (m == null) throw invalid("'messages[" + i + "]' must be an object");
    if (m.role() == null || !ROLES.contains(m.role())) {
      throw invalid("'messages[" + i + "].role' must be one of " + ROLES);
    }
    return new ChatMessage(m.role(), content(m.content(), "messages[" + i + "].content"));
  }

  private static String content(JsonNode c, String field) {
    if (c == null || c.isNull()) return "";
    if (c.isTextual()) return c.textValue();
    if (c.isArray()) {
      var sb = new StringBuilder();
      for (JsonNode part : c) {
        if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
          throw invalid("'" + field + "' parts must be {\"type\": \"text\", \"text\": string}; other part types are not supported");
        }
        sb.append(part.get("text").textValue());
      }
      return sb.toString();
    }
    throw invalid("'" + field + "' must be a string or an array of text parts");
  }

  private static String prompt(JsonNode p) {
    if (p == null || p.isNull()) throw invalid("'prompt' is required");
    if (p.isTextual()) return p.textValue();
    if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) return p.get(0).textValue();
    throw invalid("'prompt' must be a string (batches of prompts are not supported)");
  }

  private static boolean nonZero(Double v) {
    return v != null && v != 0.0;
  }

  private static void unsupported(boolean set, String field, String feature) {
    if (set) throw invalid("'" + field + "' is set, but " + feature + " is not supported yet; leave it out");
  }

  private static void checkN(Integer n) {
    if (n != null && n != 1) throw invalid("'n' must be 1: one choice per request is supported");
  }

  private static int maxTokens(Integer v, int dflt) {
    if (v == null) return dflt;
    if (v < 1 || v > 1_048_576) throw invalid("'max_tokens' must be between 1 and 1048576");
    return v;
  }

  private static double temperature(Double t) {
    if (t == null) return 1.0;
    if (t.isNaN() || t < 0 || t > 2) throw invalid("'temperature' must be between 0 and 2");
    return t;
  }

  private static double topP(Double p) {
    if (p == null) return 1.0;
    if (p.isNaN() || p <= 0 || p > 1) throw invalid("'top_p' must be greater than 0 and at most 1");
    return p;
  }

  private static List<String> stop(JsonNode s) {
    if (s == null || s.isNull()) return List.of();
    if (s.isTextual()) return List.of(s.textValue());
    if (s.isArray() && s.size() <= MAX_STOP_SEQUENCES) {
      var out = new ArrayList<String>();
      for (JsonNode e : s) {
        if (!e.isTextual()) throw invalid("'stop' entries must be strings");
        out.add(e.textValue());
      }
      return List.copyOf(out);
    }
    throw invalid("'stop' must be a string or an array of at most " + MAX_STOP_SEQUENCES + " strings");
  }

  private static DalangException invalid(String message) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message);
  }
}
