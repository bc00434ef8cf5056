package io.dalang.protocols.openai;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns the OpenAI request records into Dalang's canonical {@link GenerationRequest}, or throws a
 * {@link DalangException} with {@link ErrorCode#INVALID_REQUEST} naming the offending field. Values
 * that OpenAI accepts but Dalang honours on no engine ({@code echo}, {@code suffix}, the deprecated
 * {@code functions}) are {@link ErrorCode#UNSUPPORTED_PARAMETER}, never ignored; whether the engine of
 * the model's pool can serve tools, a response format, logprobs or several choices is checked where the
 * pool is known ({@link GenerationOptions#extensions()}). The one
 * place the {@link RequestLimits} are checked, for every edge: a violation names the field ({@code
 * param}) and the cap.
 */
public final class RequestValidation {

  /**
   * A validated request: the model it names, whether to stream, what to generate, and whether a stream
   * ends with a usage chunk ({@code stream_options.include_usage}).
   */
  public record Validated(String model, boolean stream, GenerationRequest generation, boolean includeUsage) {

    public Validated(String model, boolean stream, GenerationRequest generation) {
      this(model, stream, generation, false);
    }
  }

  /** Entries of one request's {@code logit_bias} (OpenAI documents no cap; a vocabulary is far larger). */
  static final int MAX_LOGIT_BIAS = 1024;

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
      promptBytes += utf8Length(m.content()) + utf8Length(m.toolCalls());
      messages.add(m);
    }
    if (r.functions() != null && !r.functions().isNull()) throw unsupported("functions", "'functions' is OpenAI's deprecated form; send 'tools'");
    if (r.functionCall() != null && !r.functionCall().isNull()) {
      throw unsupported("function_call", "'function_call' is OpenAI's deprecated form; send 'tool_choice'");
    }
    var tools = ToolsValidation.tools(r.tools(), limits);
    String toolChoice = ToolsValidation.toolChoice(r.toolChoice(), tools);
    String responseFormat = responseFormat(r.responseFormat());
    promptBytes += utf8Length(tools.json()) + utf8Length(responseFormat);
    promptBytes("messages", promptBytes, limits);
    if (r.topLogprobs() != null && !Boolean.TRUE.equals(r.logprobs())) throw invalid("'top_logprobs' needs 'logprobs': true", "top_logprobs");
    int top = r.topLogprobs() == null ? 0 : range("top_logprobs", r.topLogprobs(), 0, 20);
    var options = new GenerationOptions(tools.json(), toolChoice, tools.json() == null ? null : r.parallelToolCalls(), responseFormat,
        Boolean.TRUE.equals(r.logprobs()), top, choices(r.n(), limits), penalty("presence_penalty", r.presencePenalty()),
        penalty("frequency_penalty", r.frequencyPenalty()), logitBias(r.logitBias()));
    Integer max = r.maxCompletionTokens() != null ? r.maxCompletionTokens() : r.maxTokens();
    var gen = new GenerationRequest(runId, null, List.copyOf(messages), maxTokens(max, defaultMaxTokens),
        temperature(r.temperature()), topP(r.topP()), r.seed(), stop(r.stop(), limits), options);
    return new Validated(model, Boolean.TRUE.equals(r.stream()), gen, includeUsage(r.streamOptions(), r.stream()));
  }

  public static Validated completion(CompletionRequest r, String runId, int defaultMaxTokens, RequestLimits limits) {
    if (r == null) throw invalid("the request body must be a JSON object");
    String model = requireModel(r.model());
    String prompt = prompt(r.prompt());
    promptBytes("prompt", utf8Length(prompt), limits);
    if (Boolean.TRUE.equals(r.echo())) throw unsupported("echo", "'echo' is not supported");
    if (r.suffix() != null && !r.suffix().isEmpty()) throw unsupported("suffix", "'suffix' (insertion) is not supported");
    if (r.bestOf() != null && r.bestOf() != 1) throw unsupported("best_of", "'best_of' is not supported; use 'n'");
    int top = r.logprobs() == null ? 0 : range("logprobs", r.logprobs(), 0, 5);
    var options = new GenerationOptions(null, null, null, null, r.logprobs() != null, top, choices(r.n(), limits),
        penalty("presence_penalty", r.presencePenalty()), penalty("frequency_penalty", r.frequencyPenalty()), logitBias(r.logitBias()));
    var gen = new GenerationRequest(runId, prompt, null, maxTokens(r.maxTokens(), defaultMaxTokens),
        temperature(r.temperature()), topP(r.topP()), r.seed(), stop(r.stop(), limits), options);
    return new Validated(model, Boolean.TRUE.equals(r.stream()), gen, includeUsage(r.streamOptions(), r.stream()));
  }

  private static boolean includeUsage(ChatCompletionRequest.StreamOptions o, Boolean stream) {
    if (o == null) return false;
    if (!Boolean.TRUE.equals(stream)) throw invalid("'stream_options' is only allowed when 'stream' is true", "stream_options");
    return Boolean.TRUE.equals(o.includeUsage());
  }

  /** The {@code response_format} as JSON text for the engine; null for free text. */
  private static String responseFormat(JsonNode f) {
    if (f == null || f.isNull()) return null;
    if (!f.isObject()) throw invalid("'response_format' must be an object", "response_format");
    String type = f.path("type").asText("");
    switch (type) {
      case "text":
        return null;
      case "json_object":
        return f.toString();
      case "json_schema": {
        JsonNode js = f.path("json_schema");
        if (!js.isObject()) throw invalid("'response_format.json_schema' must be an object with 'name' and 'schema'", "response_format");
        JsonNode name = js.path("name");
        if (!name.isTextual() || !ToolsValidation.NAME.matcher(name.textValue()).matches()) {
          throw invalid("'response_format.json_schema.name' must be 1 to 64 letters, digits, '_' or '-'", "response_format");
        }
        JsonNode schema = js.path("schema");
        if (!schema.isMissingNode() && !schema.isObject()) throw invalid("'response_format.json_schema.schema' must be an object", "response_format");
        JsonNode strict = js.path("strict");
        if (!strict.isMissingNode() && !strict.isNull() && !strict.isBoolean()) {
          throw invalid("'response_format.json_schema.strict' must be a boolean", "response_format");
        }
        return f.toString();
      }
      default:
        throw invalid("'response_format.type' must be 'text', 'json_object' or 'json_schema'", "response_format");
    }
  }

  private static int choices(Integer n, RequestLimits limits) {
    if (n == null) return 1;
    if (n < 1) throw invalid("'n' must be at least 1", "n");
    if (n > limits.choices()) throw overCap("n", "'n' is " + n, limits.choices() + " choices");
    return n;
  }

  private static int range(String field, int v, int min, int max) {
    if (v < min || v > max) throw invalid("'" + field + "' must be between " + min + " and " + max, field);
    return v;
  }

  private static double penalty(String field, Double v) {
    if (v == null) return 0;
    if (v.isNaN() || v < -2 || v > 2) throw invalid("'" + field + "' must be between -2 and 2", field);
    return v;
  }

  /** OpenAI's {@code logit_bias}: token id (as a string key) to a bias between -100 and 100. */
  private static Map<Integer, Double> logitBias(JsonNode b) {
    if (b == null || b.isNull()) return Map.of();
    if (!b.isObject()) throw invalid("'logit_bias' must be an object of token id to bias", "logit_bias");
    if (b.size() > MAX_LOGIT_BIAS) throw overCap("logit_bias", "'logit_bias' has " + b.size() + " entries", MAX_LOGIT_BIAS + " entries");
    var out = new java.util.HashMap<Integer, Double>();
    var it = b.fields();
    while (it.hasNext()) {
      var e = it.next();
      int id;
      try {
        id = Integer.parseInt(e.getKey());
      } catch (NumberFormatException x) {
        throw invalid("'logit_bias' keys must be token ids (non-negative integers)", "logit_bias");
      }
      if (id < 0) throw invalid("'logit_bias' keys must be token ids (non-negative integers)", "logit_bias");
      JsonNode v = e.getValue();
      if (!v.isNumber() || v.asDouble() < -100 || v.asDouble() > 100) throw invalid("'logit_bias' values must be numbers between -100 and 100", "logit_bias");
      out.put(id, v.asDouble());
    }
    return out;
  }

  private static void promptBytes(String field, long bytes, RequestLimits limits) {
    if (bytes > limits.promptBytes()) {
      throw overCap(field, "the prompt is " + bytes + " bytes (UTF-8)", limits.promptBytes() + " bytes");
    }
  }

  /** UTF-8 length without encoding the string; 0 for null. */
  static long utf8Length(String s) {
    if (s == null) return 0;
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
    String field = "messages[" + i + "]";
    String toolCalls = null;
    if (m.toolCalls() != null && !m.toolCalls().isNull()) {
      if (!"assistant".equals(m.role())) throw invalid("'" + field + ".tool_calls' is only allowed on an assistant message", "messages");
      toolCalls = ToolsValidation.toolCalls(m.toolCalls(), field + ".tool_calls");
    }
    String toolCallId = null;
    if ("tool".equals(m.role())) {
      if (m.toolCallId() == null || m.toolCallId().isEmpty() || m.toolCallId().length() > 256) {
        throw invalid("'" + field + ".tool_call_id' is required on a tool message (at most 256 characters)", "messages");
      }
      toolCallId = m.toolCallId();
    }
    if (m.name() != null && m.name().length() > 256) throw invalid("'" + field + ".name' is longer than 256 characters", "messages");
    return new ChatMessage(m.role(), content(m.content(), field + ".content"), toolCalls, toolCallId, m.name());
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

  static DalangException invalid(String message) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message);
  }

  static DalangException invalid(String message, String param) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message, param, 0);
  }

  /** A parameter Dalang does not honour on any engine: named, never dropped. */
  static DalangException unsupported(String param, String message) {
    return new DalangException(ErrorCode.UNSUPPORTED_PARAMETER, message, param, 0);
  }
}
