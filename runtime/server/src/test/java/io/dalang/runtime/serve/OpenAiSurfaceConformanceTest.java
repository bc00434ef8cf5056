package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAI surface agent frameworks use, with the official OpenAI Node client as the oracle
 * ({@code openai-client/surface.mjs}), on both engines and the random-weight demo model: tool calls
 * (forced, streamed, answered), JSON-schema output that parses and validates, logprobs consistent with
 * the text, several choices, and usage only in the chunk a stream asks for. What an engine cannot do is
 * a typed {@code 400 unsupported_parameter}, raised by the client as its API error.
 */
class OpenAiSurfaceConformanceTest {

  static JsonNode surface(Path data, String engine) throws Exception {
    Assumptions.assumeTrue(OpenAiClientCompatibilityTest.onPath("node") && OpenAiClientCompatibilityTest.onPath("npm"),
        "needs node and npm (.ci/run installs them)");
    Path dir = OpenAiClientCompatibilityTest.clientDir();
    String key = "sf-" + Long.toHexString(System.nanoTime());
    if (engine.equals("llama-server")) TestModels.llamaServer();
    try (var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withEngine(engine).withDemoKey(key), System.out)) {
      new ApiClient(node.httpPort(), key).awaitReady(Duration.ofSeconds(120));
      return OpenAiClientCompatibilityTest.run(dir, "surface.mjs", "http://127.0.0.1:" + node.httpPort() + "/v1", key,
          Map.of("TOOL_BIAS", toolBias()));
    }
  }

  @Test
  void llamaServerServesToolsSchemasLogprobsAndChoicesToTheOfficialClient(@TempDir Path data) throws Exception {
    JsonNode r = surface(data, "llama-server");

    // tool_choice "required" makes the model call a declared tool, with arguments that fit its schema
    JsonNode call = r.at("/toolCall/calls/0");
    assertEquals("tool_calls", r.at("/toolCall/finish").asText(), r.toString());
    assertEquals("function", call.at("/type").asText());
    assertEquals("get_weather", call.at("/function/name").asText());
    assertFalse(call.at("/id").asText().isEmpty(), "a call has an id the tool's answer refers to");
    JsonNode args = ApiClient.json(call.at("/function/arguments").asText());
    assertTrue(Set.of("Paris", "Oslo", "Lima").contains(args.at("/city").asText()), args.toString());
    assertTrue(r.at("/toolCall/usage/completion_tokens").asInt() > 0);

    // the same call streamed, as the client reassembles it from delta.tool_calls
    assertEquals("tool_calls", r.at("/toolStream/finish").asText(), r.at("/toolStream").toString());
    assertEquals(1, r.at("/toolStream/calls").size());
    assertEquals("function", r.at("/toolStream/calls/0/type").asText());
    assertEquals("get_weather", r.at("/toolStream/calls/0/function/name").asText());
    assertEquals(args, ApiClient.json(r.at("/toolStream/calls/0/function/arguments").asText()),
        "streamed and whole answers make the same call at temperature 0");

    // the tool's answer goes back in the history; with tool_choice none the model answers in text
    assertTrue(r.at("/roundTrip/error").isMissingNode(), r.at("/roundTrip").toString());
    assertEquals(0, r.at("/roundTrip/calls").size());
    assertTrue(Set.of("stop", "length").contains(r.at("/roundTrip/finish").asText()));

    // a JSON schema is enforced by grammar: even random weights give JSON that validates
    for (String field : List.of("/jsonSchema/content", "/jsonSchema/streamed")) {
      JsonNode v = parsed(r, field);
      assertTrue(Set.of("yes", "no").contains(v.at("/answer").asText()), field + ": " + v);
      assertTrue(v.at("/score").isInt() && v.at("/score").asInt() >= 0 && v.at("/score").asInt() <= 9, field + ": " + v);
      assertEquals(Set.of("answer", "score"), fields(v), "additionalProperties false");
    }
    assertEquals(r.at("/jsonSchema/content").asText(), r.at("/jsonSchema/streamed").asText(), "streamed and whole JSON agree");
    assertJsonObject(r);

    // logprobs: one entry per generated token, whose tokens spell the text, each with its alternatives
    JsonNode lp = r.at("/logprobs/logprobs/content");
    assertEquals(r.at("/logprobs/usage/completion_tokens").asInt(), lp.size(), r.at("/logprobs").toString());
    var spelled = new StringBuilder();
    for (JsonNode t : lp) {
      spelled.append(t.at("/token").asText());
      assertTrue(t.at("/logprob").asDouble() <= 0, t.toString());
      assertEquals(2, t.at("/top_logprobs").size(), t.toString());
      assertTrue(t.at("/bytes").isArray());
    }
    assertEquals(r.at("/logprobs/content").asText(), spelled.toString());

    // n = 3: three choices, each its own sequence; usage counts all of them
    JsonNode choices = r.at("/choices/choices");
    assertEquals(3, choices.size(), r.at("/choices").toString());
    for (int i = 0; i < 3; i++) {
      assertEquals(i, choices.get(i).at("/index").asInt());
      assertNotNull(choices.get(i).at("/content").textValue());
      assertTrue(Set.of("stop", "length").contains(choices.get(i).at("/finish").asText()));
    }
    assertTrue(r.at("/choices/usage/completion_tokens").asInt() > 6, "usage sums the choices: " + r.at("/choices/usage"));
    // more choices than the slot runs sequences (4 in the demo pool): the engine's refusal is the client's 400, not a 5xx
    assertEquals(400, r.at("/moreChoicesThanSequences/error/status").asInt(), r.at("/moreChoicesThanSequences").toString());
    assertEquals("invalid_request", r.at("/moreChoicesThanSequences/error/code").asText());

    // usage only where a stream asks for it, in a last chunk of its own with no choices
    JsonNode chunks = r.at("/streamUsage/chunks");
    JsonNode lastChunk = chunks.get(chunks.size() - 1);
    assertEquals(0, lastChunk.at("/choices").asInt());
    assertEquals(5, lastChunk.at("/usage/completion_tokens").asInt());
    for (int i = 0; i < chunks.size() - 1; i++) assertTrue(chunks.get(i).at("/usage").isNull(), chunks.toString());
    for (JsonNode c : r.at("/streamUsage/plain")) assertTrue(c.at("/usage").isNull(), "no usage when not asked: " + r.at("/streamUsage/plain"));

    // the completions API's own logprobs shape
    JsonNode tl = r.at("/textLogprobs/logprobs");
    assertEquals(tl.at("/tokens").size(), tl.at("/token_logprobs").size(), tl.toString());
    assertEquals(String.join("", texts(tl.at("/tokens"))), r.at("/textLogprobs/text").asText());
    assertEquals(0, tl.at("/text_offset/0").asInt());
  }

  @Test
  void theInProcessEngineConstrainsJsonAndRefusesWhatItCannotDoByName(@TempDir Path data) throws Exception {
    JsonNode r = surface(data, "llama-inprocess");

    for (String part : List.of("toolCall", "toolStream", "logprobs", "choices")) {
      JsonNode e = r.at("/" + part + "/error");
      assertEquals(400, e.at("/status").asInt(), part + ": " + r.at("/" + part));
      assertEquals("unsupported_parameter", e.at("/code").asText(), part + ": " + e);
      assertTrue(e.at("/message").asText().contains("llama-inprocess"), "names the engine: " + e);
    }
    JsonNode v = parsed(r, "/jsonSchema/content");
    assertTrue(Set.of("yes", "no").contains(v.at("/answer").asText()), v.toString());
    assertEquals(Set.of("answer", "score"), fields(v));
    assertJsonObject(r);
    assertEquals(0, r.at("/streamUsage/chunks").get(r.at("/streamUsage/chunks").size() - 1).at("/choices").asInt());
  }

  /**
   * The demo model's {@code <tool_call>} token strongly, its end-of-sequence more strongly (allowed only
   * once a call is complete), and the JSON punctuation a little over whitespace; token ids of byte
   * {@code b} are {@code 3 + b} in every tiny model.
   */
  static String toolBias() {
    var bias = new java.util.LinkedHashMap<String, Integer>();
    bias.put(String.valueOf(io.dalang.gguf.TinyModel.toolCallToken()), 50);
    bias.put("2", 100);
    for (char c : "\"{}:,".toCharArray()) bias.put(String.valueOf(3 + c), 5);
    var out = new StringBuilder("{");
    bias.forEach((k, v) -> out.append(out.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
    return out.append('}').toString();
  }

  /**
   * {@code json_object} allows any object, free strings included, which random weights may fill until
   * max_tokens: the answer is an object, whole if the model ended it, a prefix of one if it ran out.
   */
  private static void assertJsonObject(JsonNode r) {
    String content = r.at("/jsonObject/content").asText();
    assertTrue(content.stripLeading().startsWith("{"), r.at("/jsonObject").toString());
    if (r.at("/jsonObject/finish").asText().equals("stop")) assertTrue(parsed(r, "/jsonObject/content").isObject());
    else assertEquals("length", r.at("/jsonObject/finish").asText());
  }

  /** The JSON text at {@code pointer} of the script's output, parsed; a failure shows the whole output. */
  private static JsonNode parsed(JsonNode r, String pointer) {
    try {
      return ApiClient.json(r.at(pointer).asText());
    } catch (java.io.IOException e) {
      throw new AssertionError(pointer + " is not JSON: " + r, e);
    }
  }

  private static Set<String> fields(JsonNode o) {
    var out = new HashSet<String>();
    o.fieldNames().forEachRemaining(out::add);
    return out;
  }

  private static List<String> texts(JsonNode array) {
    var out = new java.util.ArrayList<String>();
    array.forEach(n -> out.add(n.asText()));
    return out;
  }
}
