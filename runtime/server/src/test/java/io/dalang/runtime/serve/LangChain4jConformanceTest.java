package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.listener.ChatModelListener;
import dev.langchain4j.model.chat.listener.ChatModelResponseContext;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiChatRequestParameters;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.service.AiServices;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j, an agent framework, pointed at Dalang through its own OpenAI integration
 * ({@code OpenAiChatModel}, unmodified): an {@code AiServices} interface whose {@code @Tool} the model
 * is made to call runs end to end on the llama-server engine: the framework sends the tool's schema,
 * parses the call Dalang returns, runs the tool, sends its result back and returns the model's answer;
 * a service returning a Java type gets it through a strict JSON schema; its embedding model
 * ({@code OpenAiEmbeddingModel}) embeds through the demo's embedding pool. One node serves the class.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LangChain4jConformanceTest {
  ClientNode node;

  @BeforeAll
  void start(@TempDir Path data) throws Exception {
    node = ClientNode.start(data, "llama-server");
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  /** What the service asks; LangChain4j turns the method into a user message. */
  interface WeatherAssistant {
    String ask(String question);
  }

  /** The tool, with an enum parameter so the random model's arguments are bounded. */
  static final class WeatherTools {
    final List<OpenAiJavaSdkConformanceTest.City> asked = new CopyOnWriteArrayList<>();

    @Tool("The weather in a city")
    String getWeather(@P("the city") OpenAiJavaSdkConformanceTest.City city) {
      asked.add(city);
      return "{\"temperature_c\": 21}";
    }
  }

  /** Every exchange the model had, as the framework's listener sees it. */
  static final class Exchanges implements ChatModelListener {
    final List<ChatModelResponseContext> seen = new CopyOnWriteArrayList<>();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();

    @Override
    public void onError(dev.langchain4j.model.chat.listener.ChatModelErrorContext context) {
      errors.add(context.error());
    }

    @Override
    public void onResponse(ChatModelResponseContext context) {
      seen.add(context);
    }

    @Override
    public String toString() {
      var out = new StringBuilder();
      for (var c : seen) out.append(c.chatRequest()).append(" -> ").append(c.chatResponse()).append('\n');
      return out.toString();
    }
  }

  @Test
  void anAiServiceCallsItsForcedToolAndAnswersWithTheToolsResult() {
    var exchanges = new Exchanges();
    // tool_choice required and the bias make the random model call the tool (see toolBias()); once the
    // tool's result is in the history the answer is asked for as text, or the loop would never end
    // (LangChain4j keeps tool_choice as configured across the tool loop)
    var model = model().maxCompletionTokens(200).listeners(exchanges)
        .defaultRequestParameters(OpenAiChatRequestParameters.builder().toolChoice(ToolChoice.REQUIRED).parallelToolCalls(false)
            .logitBias(OpenAiJavaSdkConformanceTest.toolBias()).build())
        .build();
    var tools = new WeatherTools();
    WeatherAssistant assistant = AiServices.builder(WeatherAssistant.class).chatModel(model).tools(tools)
        .chatRequestTransformer(LangChain4jConformanceTest::answerAfterToolResult).build();

    String answer = assistant.ask("What is the weather in Paris?");

    assertNotNull(answer, exchanges + " errors " + exchanges.errors);
    assertFalse(answer.isEmpty());
    assertEquals(1, tools.asked.size(), "the tool ran once: " + tools.asked);
    assertNotNull(tools.asked.get(0), "the framework parsed the call's arguments into the enum");
    assertEquals(2, exchanges.seen.size(), "a call, then the answer");
    var call = exchanges.seen.get(0).chatResponse();
    assertEquals(FinishReason.TOOL_EXECUTION, call.finishReason());
    assertEquals("getWeather", call.aiMessage().toolExecutionRequests().get(0).name());
    assertFalse(call.aiMessage().toolExecutionRequests().get(0).id().isEmpty(), "the call has an id the result refers to");
    List<ChatMessage> history = exchanges.seen.get(1).chatRequest().messages();
    var result = assertInstanceOf(ToolExecutionResultMessage.class, history.get(history.size() - 1));
    assertEquals(call.aiMessage().toolExecutionRequests().get(0).id(), result.id());
    AiMessage last = exchanges.seen.get(1).chatResponse().aiMessage();
    assertFalse(last.hasToolExecutionRequests());
    assertEquals(answer, last.text());
    assertTrue(call.tokenUsage().outputTokenCount() > 0);
  }

  /** What a structured-output service returns; LangChain4j derives the JSON schema from it. */
  interface Judge {
    OpenAiJavaSdkConformanceTest.Verdict judge(String question);
  }

  @Test
  void anAiServiceReturnsAJavaTypeFromStrictJsonSchemaOutput() {
    var model = model().maxCompletionTokens(600).supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true).build();
    Judge judge = AiServices.create(Judge.class, model);

    OpenAiJavaSdkConformanceTest.Verdict v = judge.judge("Is the sky blue?");

    assertNotNull(v.answer, "the grammar made the model write every required field");
  }

  @Test
  void anOpenAiEmbeddingModelEmbedsThroughDalang() {
    var model = dev.langchain4j.model.openai.OpenAiEmbeddingModel.builder().baseUrl(node.baseUrl()).apiKey(node.key())
        .modelName("dalang-demo-embed").maxRetries(0).build();

    var one = model.embed("The river runs to the sea").content();
    var again = model.embed("The river runs to the sea").content();
    var many = model.embedAll(List.of(dev.langchain4j.data.segment.TextSegment.from("The river runs to the sea"),
        dev.langchain4j.data.segment.TextSegment.from("A mountain of stone"))).content();

    assertEquals(64, one.dimension(), "the demo model's width");
    // llama-server batches differently call to call: equal to float rounding, not bit for bit
    assertTrue(dev.langchain4j.store.embedding.CosineSimilarity.between(one, again) > 0.99999, "the same text, the same vector");
    assertEquals(2, many.size(), "one vector per segment, in order");
    assertTrue(dev.langchain4j.store.embedding.CosineSimilarity.between(one, many.get(0)) > 0.99999);
    assertTrue(dev.langchain4j.store.embedding.CosineSimilarity.between(many.get(0), many.get(1)) < 0.99999, "different texts differ");
  }

  /** The chat model pointed at the node, deterministic, with no retries to hide a failure. */
  private OpenAiChatModel.OpenAiChatModelBuilder model() {
    return OpenAiChatModel.builder().baseUrl(node.baseUrl()).apiKey(node.key()).modelName(ClientNode.MODEL).temperature(0.0).maxRetries(0);
  }

  /**
   * With the tool's result in the history: no tool call and a short answer, which the random model
   * would end at once at temperature 0 were its end-of-sequence token (id 2) not held back.
   */
  private static ChatRequest answerAfterToolResult(ChatRequest request) {
    List<ChatMessage> messages = request.messages();
    if (!(messages.get(messages.size() - 1) instanceof ToolExecutionResultMessage)) return request;
    var parameters = OpenAiChatRequestParameters.builder().overrideWith(request.parameters())
        .toolChoice(ToolChoice.NONE).logitBias(Map.of("2", -100)).maxCompletionTokens(12).build();
    return request.toBuilder().parameters(parameters).build();
  }
}
