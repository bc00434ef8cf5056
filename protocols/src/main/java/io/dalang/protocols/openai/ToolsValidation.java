package io.dalang.protocols.openai;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks the function-calling parts of a chat request: the {@code tools} it offers, its
 * {@code tool_choice}, and the {@code tool_calls} of earlier assistant turns. What passes is kept as
 * compact JSON text for the engine, which renders it through the model's chat template.
 */
final class ToolsValidation {
  /** OpenAI's rule for function (and schema) names. */
  static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /** The request's tools as JSON text (null: none) and their function names. */
  record Tools(String json, Set<String> names) {}

  private ToolsValidation() {}

  static Tools tools(JsonNode tools, RequestLimits limits) {
    if (tools == null || tools.isNull() || (tools.isArray() && tools.isEmpty())) return new Tools(null, Set.of());
    if (!tools.isArray()) throw RequestValidation.invalid("'tools' must be an array of {\"type\": \"function\", \"function\": {...}}", "tools");
    if (tools.size() > limits.tools()) throw RequestValidation.overCap("tools", "'tools' has " + tools.size() + " entries", limits.tools() + " tools");
    var names = new LinkedHashSet<String>();
    for (int i = 0; i < tools.size(); i++) {
      JsonNode t = tools.get(i);
      String at = "'tools[" + i + "]";
      if (!t.isObject() || !"function".equals(t.path("type").asText())) throw RequestValidation.invalid(at + ".type' must be \"function\"", "tools");
      JsonNode f = t.path("function");
      if (!f.isObject()) throw RequestValidation.invalid(at + ".function' must be an object", "tools");
      JsonNode name = f.path("name");
      if (!name.isTextual() || !NAME.matcher(name.textValue()).matches()) {
        throw RequestValidation.invalid(at + ".function.name' must be 1 to 64 letters, digits, '_' or '-'", "tools");
      }
      if (!names.add(name.textValue())) throw RequestValidation.invalid(at + ".function.name' repeats '" + name.textValue() + "'", "tools");
      JsonNode d = f.path("description");
      if (!d.isMissingNode() && !d.isNull() && !d.isTextual()) throw RequestValidation.invalid(at + ".function.description' must be a string", "tools");
      JsonNode p = f.path("parameters");
      if (!p.isMissingNode() && !p.isNull() && !p.isObject()) {
        throw RequestValidation.invalid(at + ".function.parameters' must be a JSON Schema object", "tools");
      }
      JsonNode strict = f.path("strict");
      if (!strict.isMissingNode() && !strict.isNull() && !strict.isBoolean()) {
        throw RequestValidation.invalid(at + ".function.strict' must be a boolean", "tools");
      }
    }
    return new Tools(tools.toString(), Set.copyOf(names));
  }

  /**
   * {@code none}, {@code auto}, {@code required} or {@code {"type": "function", "function": {"name": N}}}
   * naming one of the tools, as JSON text; null when not set. {@code required} and a named function
   * need tools to choose from.
   */
  static String toolChoice(JsonNode c, Tools tools) {
    if (c == null || c.isNull()) return null;
    if (c.isTextual()) {
      switch (c.textValue()) {
        case "none", "auto":
          return tools.json() == null ? null : c.toString();
        case "required":
          if (tools.json() == null) throw RequestValidation.invalid("'tool_choice' is \"required\" but 'tools' is empty", "tool_choice");
          return c.toString();
        default:
          throw RequestValidation.invalid("'tool_choice' must be \"none\", \"auto\", \"required\" or a named function", "tool_choice");
      }
    }
    JsonNode name = c.path("function").path("name");
    if (!c.isObject() || !"function".equals(c.path("type").asText()) || !name.isTextual()) {
      throw RequestValidation.invalid("'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}",
          "tool_choice");
    }
    if (!tools.names().contains(name.textValue())) {
      throw RequestValidation.invalid("'tool_choice' names '" + clip(name.textValue()) + "', which is not one of 'tools'", "tool_choice");
    }
    return c.toString();
  }

  /** An assistant turn's {@code tool_calls}: each {@code {"id", "type": "function", "function": {"name", "arguments"}}}. */
  static String toolCalls(JsonNode calls, String field) {
    if (!calls.isArray()) throw RequestValidation.invalid("'" + field + "' must be an array", "messages");
    for (int i = 0; i < calls.size(); i++) {
      JsonNode c = calls.get(i);
      String at = "'" + field + "[" + i + "]";
      if (!c.isObject() || !c.path("id").isTextual() || !"function".equals(c.path("type").asText("function"))) {
        throw RequestValidation.invalid(at + "' must be {\"id\": string, \"type\": \"function\", \"function\": {...}}", "messages");
      }
      JsonNode f = c.path("function");
      if (!f.path("name").isTextual() || !f.path("arguments").isTextual()) {
        throw RequestValidation.invalid(at + ".function' must have a string 'name' and string 'arguments'", "messages");
      }
    }
    return calls.toString();
  }

  private static String clip(String s) {
    return s.length() > 64 ? s.substring(0, 64) + "..." : s;
  }
}
