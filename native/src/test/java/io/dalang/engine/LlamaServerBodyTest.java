package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The request body Dalang sends llama-server, in the dialect that server reads. */
class LlamaServerBodyTest {
  static final String TOOLS = "[{\"type\":\"function\",\"function\":{\"name\":\"a\"}},{\"type\":\"function\",\"function\":{\"name\":\"b\"}}]";

  static JsonNode body(String toolChoice) throws Exception {
    var options = new GenerationOptions(TOOLS, toolChoice, false, null, false, 0, 1, 0, 0, Map.of());
    var request = new GenerationRequest("r", null, List.of(new ChatMessage("user", "hi")), 8, 0.0, 1.0, null, List.of(), options);
    return EngineHttp.JSON.readTree(LlamaServerEngine.body(request));
  }

  @Test
  void aNamedFunctionIsSentAsRequiredOverThatToolAlone() throws Exception {
    JsonNode b = body("{\"type\":\"function\",\"function\":{\"name\":\"b\"}}");
    assertEquals("required", b.get("tool_choice").asText());
    assertEquals(1, b.get("tools").size());
    assertEquals("b", b.at("/tools/0/function/name").asText());
  }

  @Test
  void theChoicesLlamaServerReadsPassAsTheyAre() throws Exception {
    for (String choice : List.of("auto", "none", "required")) {
      JsonNode b = body("\"" + choice + "\"");
      assertEquals(choice, b.get("tool_choice").asText());
      assertEquals(2, b.get("tools").size());
    }
  }
}
