package io.dalang.protocols.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationOptions;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RequestValidationTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String TOOL = """
      {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}""";

  static RequestValidation.Validated chat(String extra) throws Exception {
    var r = JSON.readValue("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" + extra + "}", ChatCompletionRequest.class);
    return RequestValidation.chat(r, "run_1", 16, RequestLimits.DEFAULTS);
  }

  static DalangException refused(String extra) {
    return assertThrows(DalangException.class, () -> chat(extra));
  }

  @Test
  void plainChatAsksForNoEngineExtension() throws Exception {
    var v = chat("");
    assertEquals(GenerationOptions.NONE, v.generation().options());
    assertEquals(Set.of(), v.generation().options().extensions());
    assertEquals(false, v.includeUsage());
  }

  @Test
  void toolsResponseFormatLogprobsAndChoicesBecomeTheExtensionsPlacementNeeds() throws Exception {
    var v = chat(", \"tools\": [" + TOOL + "], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}, "
        + "\"response_format\": {\"type\": \"json_object\"}, \"logprobs\": true, \"top_logprobs\": 3, \"n\": 2, "
        + "\"presence_penalty\": 0.5, \"logit_bias\": {\"42\": -100}, \"stream\": true, \"stream_options\": {\"include_usage\": true}");
    var o = v.generation().options();
    assertEquals(Set.of("tools", "grammar", "logprobs", "choices"), o.extensions());
    assertTrue(o.tools().contains("get_weather"));
    assertTrue(o.toolChoice().contains("get_weather"));
    assertEquals(3, o.topLogprobs());
    assertEquals(2, o.choices());
    assertEquals(0.5, o.presencePenalty());
    assertEquals(Map.of(42, -100.0), o.logitBias());
    assertTrue(v.includeUsage());
  }

  @Test
  void textResponseFormatAndAutoToolChoiceWithoutToolsAreNoOptions() throws Exception {
    var o = chat(", \"response_format\": {\"type\": \"text\"}, \"tool_choice\": \"auto\"").generation().options();
    assertNull(o.responseFormat());
    assertNull(o.toolChoice());
  }

  @Test
  void assistantToolCallsAndToolAnswersAreKeptForTheTemplate() throws Exception {
    var r = JSON.readValue("""
        {"model": "m", "messages": [{"role": "user", "content": "weather?"},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
          {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]}""", ChatCompletionRequest.class);
    var messages = RequestValidation.chat(r, "run_1", 16, RequestLimits.DEFAULTS).generation().messages();
    assertTrue(messages.get(1).toolCalls().contains("call_1"));
    assertEquals("", messages.get(1).content());
    assertEquals("call_1", messages.get(2).toolCallId());
  }

  @Test
  void refusesMalformedFunctionCallingWithTheFieldNamed() {
    assertEquals("tools", refused(", \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"has space\"}}]").toError().param());
    assertEquals("tools", refused(", \"tools\": [" + TOOL + ", " + TOOL + "]").toError().param(), "a name twice");
    assertEquals("tool_choice", refused(", \"tools\": [" + TOOL + "], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"other\"}}")
        .toError().param());
    assertEquals("tool_choice", refused(", \"tool_choice\": \"required\"").toError().param(), "required needs tools");
    var e = refused(", \"messages\": [{\"role\": \"tool\", \"content\": \"x\"}]");
    assertEquals(ErrorCode.INVALID_REQUEST, e.code(), "a tool answer names its call");
  }

  @Test
  void refusesOutOfRangeSamplingOptions() {
    assertEquals("n", refused(", \"n\": 9").toError().param(), "over dalang.limits.choices");
    assertEquals("n", refused(", \"n\": 0").toError().param());
    assertEquals("top_logprobs", refused(", \"top_logprobs\": 2").toError().param(), "needs logprobs");
    assertEquals("top_logprobs", refused(", \"logprobs\": true, \"top_logprobs\": 21").toError().param());
    assertEquals("frequency_penalty", refused(", \"frequency_penalty\": 2.5").toError().param());
    assertEquals("logit_bias", refused(", \"logit_bias\": {\"x\": 1}").toError().param());
    assertEquals("logit_bias", refused(", \"logit_bias\": {\"5\": 101}").toError().param());
    assertEquals("response_format", refused(", \"response_format\": {\"type\": \"xml\"}").toError().param());
    assertEquals("response_format", refused(", \"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"schema\": {}}}").toError().param());
    assertEquals("stream_options", refused(", \"stream_options\": {\"include_usage\": true}").toError().param(), "only with stream");
  }

  @Test
  void refusesWhatNoEngineDoesAsUnsupportedParameter() throws Exception {
    var e = refused(", \"functions\": [{\"name\": \"f\"}]");
    assertEquals(ErrorCode.UNSUPPORTED_PARAMETER, e.code());
    assertEquals("functions", e.toError().param());
    var c = JSON.readValue("{\"model\": \"m\", \"prompt\": \"p\", \"echo\": true}", CompletionRequest.class);
    var echo = assertThrows(DalangException.class, () -> RequestValidation.completion(c, "run_1", 16, RequestLimits.DEFAULTS));
    assertEquals(ErrorCode.UNSUPPORTED_PARAMETER, echo.code());
  }

  @Test
  void completionLogprobsAskForTheTopAlternatives() throws Exception {
    var c = JSON.readValue("{\"model\": \"m\", \"prompt\": \"p\", \"logprobs\": 2, \"n\": 3}", CompletionRequest.class);
    var o = RequestValidation.completion(c, "run_1", 16, RequestLimits.DEFAULTS).generation().options();
    assertTrue(o.logprobs());
    assertEquals(2, o.topLogprobs());
    assertEquals(Set.of("logprobs", "choices"), o.extensions());
  }

  @Test
  void toolsCountTowardsThePromptBytes() {
    var tight = new RequestLimits(4, 1024, 16, 64, 64, 1 << 20, 128, 8, 128);
    assertThrows(DalangException.class, () -> RequestValidation.chat(
        JSON.readValue("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"tools\": [" + TOOL + "]}",
            ChatCompletionRequest.class), "run_1", 16, tight));
  }
}
