package io.dalang.runtime.determinism;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A seed corpus for determinism checks: requests that must give the same bytes every time they are
 * replayed. Each entry is a completion ({@code prompt}) or a chat ({@code messages}), with a
 * {@code seed}, {@code max_tokens} and {@code temperature} (0 unless given).
 */
record Corpus(List<Entry> entries) {
  /** The corpus Dalang ships, relative to the working directory of a checkout or an install. */
  static final Path DEFAULT = Path.of("config", "determinism", "corpus.json");

  /** One request of the corpus. {@code messages} is null for a completion, {@code prompt} for a chat. */
  record Entry(String id, String prompt, List<Map<String, String>> messages, long seed, double temperature, int maxTokens) {

    boolean chat() {
      return messages != null;
    }

    String path() {
      return chat() ? "/v1/chat/completions" : "/v1/completions";
    }

    /** The request's JSON body, without {@code stream}; without {@code model} (null) it is what a report's {@code request_sha256} is taken of. */
    Map<String, Object> body(String model) {
      var b = new LinkedHashMap<String, Object>();
      if (model != null) b.put("model", model);
      if (chat()) b.put("messages", messages);
      else b.put("prompt", prompt);
      b.put("max_tokens", maxTokens);
      b.put("temperature", temperature);
      b.put("seed", seed);
      return b;
    }
  }

  /** Reads and checks a corpus file; an unusable one is an {@link IllegalArgumentException} naming what is wrong. */
  static Corpus load(Path file, ObjectMapper json) throws IOException {
    JsonNode root;
    try {
      root = json.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + " is not valid JSON: " + e.getOriginalMessage());
    }
    JsonNode list = root == null ? null : root.get("entries");
    if (list == null || !list.isArray() || list.isEmpty()) throw new IllegalArgumentException(file + ": 'entries' must be a non-empty array");
    var entries = new ArrayList<Entry>();
    var ids = new HashSet<String>();
    for (int i = 0; i < list.size(); i++) {
      Entry e = entry(list.get(i), "entries[" + i + "]");
      if (!ids.add(e.id())) throw new IllegalArgumentException(file + ": entry id '" + e.id() + "' appears twice");
      entries.add(e);
    }
    return new Corpus(List.copyOf(entries));
  }

  private static Entry entry(JsonNode n, String where) {
    if (!n.isObject()) throw new IllegalArgumentException(where + " must be an object");
    String id = n.path("id").asText("");
    if (!id.matches("[A-Za-z0-9_.-]{1,64}")) throw new IllegalArgumentException(where + ".id must be 1-64 letters, digits, '.', '_' or '-'");
    String at = "entry '" + id + "'";
    boolean hasPrompt = n.hasNonNull("prompt");
    boolean hasMessages = n.hasNonNull("messages");
    if (hasPrompt == hasMessages) throw new IllegalArgumentException(at + " needs exactly one of 'prompt' and 'messages'");
    if (hasPrompt && !n.get("prompt").isTextual()) throw new IllegalArgumentException(at + ": 'prompt' must be a string");
    List<Map<String, String>> messages = null;
    if (hasMessages) {
      if (!n.get("messages").isArray() || n.get("messages").isEmpty()) throw new IllegalArgumentException(at + ": 'messages' must be a non-empty array");
      messages = new ArrayList<>();
      for (JsonNode m : n.get("messages")) {
        if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
          throw new IllegalArgumentException(at + ": each message needs a string 'role' and 'content'");
        }
        messages.add(Map.of("role", m.get("role").asText(), "content", m.get("content").asText()));
      }
      messages = List.copyOf(messages);
    }
    if (!n.path("seed").isIntegralNumber()) throw new IllegalArgumentException(at + ": 'seed' must be an integer");
    if (!n.path("max_tokens").isIntegralNumber() || n.get("max_tokens").asInt() < 1) {
      throw new IllegalArgumentException(at + ": 'max_tokens' must be a positive integer");
    }
    double temperature = n.path("temperature").asDouble(0);
    if (n.has("temperature") && (!n.get("temperature").isNumber() || temperature < 0 || temperature > 2)) {
      throw new IllegalArgumentException(at + ": 'temperature' must be a number from 0 to 2");
    }
    return new Entry(id, hasPrompt ? n.get("prompt").asText() : null, messages, n.get("seed").asLong(), temperature, n.get("max_tokens").asInt());
  }
}
