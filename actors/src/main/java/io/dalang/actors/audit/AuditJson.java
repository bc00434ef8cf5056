package io.dalang.actors.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.SortedMap;
import java.util.TreeMap;

/** The JSON reader of the audit package (stored details, exported lines); writing is {@link CanonicalJson}. */
final class AuditJson {
  private AuditJson() {}

  static final ObjectMapper MAPPER = new ObjectMapper();

  /** A JSON object of strings, e.g. an event's details; {@link IllegalArgumentException} otherwise. */
  static SortedMap<String, String> stringMap(JsonNode node, String what) {
    if (node == null || !node.isObject()) throw new IllegalArgumentException(what + " is not a JSON object");
    var m = new TreeMap<String, String>();
    for (var f : node.properties()) {
      if (!f.getValue().isTextual()) throw new IllegalArgumentException(what + "." + f.getKey() + " is not a string");
      m.put(f.getKey(), f.getValue().textValue());
    }
    return m;
  }

  static SortedMap<String, String> stringMap(String json, String what) {
    try {
      return stringMap(MAPPER.readTree(json), what);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(what + " is not valid JSON: " + e.getOriginalMessage());
    }
  }
}
