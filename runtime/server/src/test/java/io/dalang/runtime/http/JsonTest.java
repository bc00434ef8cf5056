package io.dalang.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.openai.ChatCompletionRequest;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class JsonTest {

  static ErrorCode codeOf(String body) {
    return assertThrows(DalangException.class, () -> Json.parse(body.getBytes(StandardCharsets.UTF_8), ChatCompletionRequest.class)).code();
  }

  @Test
  void syntaxErrorsAreMalformedJsonWhereverTheyHappen() {
    assertEquals(ErrorCode.MALFORMED_JSON, codeOf(""));
    assertEquals(ErrorCode.MALFORMED_JSON, codeOf("{"));
    assertEquals(ErrorCode.MALFORMED_JSON, codeOf("{\"model\": \"m\", \"messages\": ["));
    assertEquals(ErrorCode.MALFORMED_JSON, codeOf("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}"));
    assertEquals(ErrorCode.MALFORMED_JSON, codeOf("{'model': 1}"));
  }

  @Test
  void wrongTypesNameTheField() {
    var e = assertThrows(DalangException.class, () -> Json.parse("{\"model\": \"m\", \"max_tokens\": \"x\"}".getBytes(StandardCharsets.UTF_8), ChatCompletionRequest.class));
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());
    var nested = assertThrows(DalangException.class, () -> Json.parse("{\"messages\": [{\"role\": 5, \"content\": \"x\"}, {\"role\": []}]}".getBytes(StandardCharsets.UTF_8), ChatCompletionRequest.class));
    assertTrue(nested.getMessage().contains("messages[1].role"), nested.getMessage());
    assertEquals(ErrorCode.INVALID_REQUEST, codeOf("[1]"));
    assertEquals(ErrorCode.INVALID_REQUEST, codeOf("\"text\""));
  }

  @Test
  void unknownFieldsAreIgnoredAsOpenAiClientsSendMany() {
    var r = Json.parse("{\"model\": \"m\", \"frequency_penalty\": 0, \"logit_bias\": {}}".getBytes(StandardCharsets.UTF_8), ChatCompletionRequest.class);
    assertEquals("m", r.model());
  }
}
