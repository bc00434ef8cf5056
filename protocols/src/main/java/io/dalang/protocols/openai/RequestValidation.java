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
 * that OpenAI accepts but Dalang cannot honour (e.g. {@code n > 1}) are rejected, not ignored. The one
 * place the {@link RequestLimits} are checked, for every edge: a violation names the field ({@code
 * param}) and the cap.
 */
public final class RequestValidation {

  /** A validated request: the model it names, whether to stream, and what to generate. */
  public record Validated(String model, boolean stream, GenerationRequest generation) {}

  static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
  private RequestValidation() {}

  /** A request body of {@code bytes} bytes, before it is parsed. */
  public static void body(long bytes, RequestLimits limits) {
    if (bytes > limits.bodyBytes()) throw overCap("body", "the request body is " + bytes + " bytes", limits.bodyBytes() + " bytes");
  }

  public static Validated chat(ChatCompletionRequest r, String runId, int defaultMaxTokens, RequestLimits limits) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = requireModel(r.model());
    if (r.messages() == null || r.messages().isEmpty()) {
      throw invalid("'messages' is required and must be a non-empty array");
    }
    if (r.messages().size() > limits.messages()) {
      throw overCap("messages", "'messages' has " + r.messages().size() + " entries", limits.messages() + " messages");
    }
    List<ChatMessage> messages = new ArrayList<>(r.messages().size());
    long promptBytes = 0;
    for (int i = 0; i < r.messages().size(); i++) {
      var m = message(r.messages().get(i), i);
      promptBytes += utf8Length(m.content());
      messages.add(m);
    }
    promptBytes("messages", promptBytes, limits);
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
        temperature(r.temperature()), topP(r.topP()), r.seed(), stop(r.stop(), limits));
    return new Validated(model, Boolean.TRUE.equals(r.stream()), gen);
  }

  public static Validated completion(CompletionRequest r, String runId, int defaultMaxTokens, RequestLimits limits) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = requireModel(r.model());
    String prompt = prompt(r.prompt());
    promptBytes("prompt", utf8Length(prompt), limits);
    checkN(r.n());
    if (Boolean.TRUE.equals(r.echo())) throw invalid("'echo' is not supported");
    unsupported(r.logprobs() != null && r.logprobs() > 0, "logprobs", "log probabilities");
    unsupported(r.suffix() != null && !r.suffix().isEmpty(), "suffix", "insertion");
    unsupported(r.bestOf() != null && r.bestOf() != 1, "best_of", "several candidates");
    unsupported(nonZero(r.presencePenalty()), "presence_penalty", "penalties");
    unsupported(nonZero(r.frequencyPenalty()), "frequency_penalty", "penalties");
    var gen = new GenerationRequest(runId, prompt, null, maxTokens(r.maxTokens(), defaultMaxTokens),
        temperature(r.temperature()), topP(r.topP()), r.seed(), stop(r.stop(), limits));
    return new Validated(model, Boolean.TRUE.equals(r.stream()), gen);
  }

  private static void promptBytes(String field, long bytes, RequestLimits limits) {
    if (bytes > limits.promptBytes()) {
      throw overCap(field, "the prompt is " + bytes + " bytes (UTF-8)", limits.promptBytes() + " bytes");
    }
  }

  /** UTF-8 length without encoding the string. */
  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) n++;
      else if (c < 0x800) n += 2;
      else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else n += 3;
    }
    return n;
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

  private static List<String> stop(JsonNode s, RequestLimits limits) {
    if (s == null || s.isNull()) return List.of();
    List<JsonNode> entries = new ArrayList<>();
    if (s.isTextual()) entries.add(s);
    else if (s.isArray()) s.forEach(entries::add);
    else throw invalid("'stop' must be a string or an array of strings");
    if (entries.size() > limits.stopSequences()) {
      throw overCap("stop", "'stop' has " + entries.size() + " strings", limits.stopSequences() + " strings");
    }
    var out = new ArrayList<String>();
    for (JsonNode e : entries) {
      if (!e.isTextual()) throw invalid("'stop' entries must be strings");
      long bytes = utf8Length(e.textValue());
      if (bytes > limits.stopBytes()) {
        throw overCap("stop", "a 'stop' string is " + bytes + " bytes (UTF-8)", limits.stopBytes() + " bytes each");
      }
      out.add(e.textValue());
    }
    return List.copyOf(out);
  }

  /** A request over one of the {@link RequestLimits}: names the field ({@code param}) and the cap. */
  public static DalangException overCap(String field, String what, String cap) {
    return new DalangException(ErrorCode.INVALID_REQUEST, what + ", more than the limit of " + cap + " (dalang.limits)", field, 0);
  }

  private static DalangException invalid(String message) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message);
  }
}
