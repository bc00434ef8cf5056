package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.OpenAIServiceException;
import com.openai.errors.UnauthorizedException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import com.openai.models.chat.completions.StructuredChatCompletion;
import com.openai.models.chat.completions.StructuredChatCompletionCreateParams;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAI surface with the official OpenAI Java SDK ({@code com.openai:openai-java}, unmodified) as
 * the oracle, on both engines and the random-weight demo model. The client validates every response it
 * parses ({@code responseValidation}), so a missing or mistyped field fails here as it would in an
 * application. The same ground as {@link OpenAiSurfaceConformanceTest} covers with the Node client:
 * chat and completions whole and streamed, a forced tool call and its round trip, JSON-schema output
 * parsed into a Java type, logprobs that spell the text, {@code n = 3}, usage in the chunk
 * {@code stream_options} asks for, and errors raised as the SDK's exception types. Each nested class
 * shares one node.
 */
class OpenAiJavaSdkConformanceTest {

  /** The tool the model is forced to call; the SDK derives its strict schema (an enum: bounded arguments). */
  @JsonClassDescription("The weather in a city")
  public static class GetWeather {
    public City city;
  }

  public enum City {
    Paris, Oslo, Lima
  }

  /** A structured answer the SDK derives a strict JSON schema from and parses the model's text into. */
  @JsonClassDescription("A verdict")
  public static class Verdict {
    @JsonPropertyDescription("yes or no")
    public Answer answer;
    public boolean certain;
  }

  public enum Answer {
    yes, no
  }

  /** What every engine serves to the SDK; the nested classes add what their engine does or refuses. */
  @TestInstance(TestInstance.Lifecycle.PER_CLASS)
  abstract static class OnEngine {
    ClientNode node;
    OpenAIClient client;

    abstract String engine();

    @BeforeAll
    void start(@TempDir Path data) throws Exception {
      node = ClientNode.start(data, engine());
      client = OpenAIOkHttpClient.builder().baseUrl(node.baseUrl()).apiKey(node.key()).maxRetries(0).responseValidation(true).build();
    }

    @AfterAll
    void stop() {
      if (client != null) client.close();
      if (node != null) node.close();
    }

    @Test
    void streamedChatSpellsTheSameAnswerAsTheWholeOne() {
      var params = chat("Say something").maxCompletionTokens(8).build();
      ChatCompletion whole = client.chat().completions().create(params);
      var choice = whole.choices().get(0);
      assertTrue(Set.of(ChatCompletion.Choice.FinishReason.STOP, ChatCompletion.Choice.FinishReason.LENGTH).contains(choice.finishReason()));
      assertEquals(ClientNode.MODEL, whole.model());
      assertTrue(whole.usage().orElseThrow().completionTokens() > 0);

      ChatCompletion streamed = accumulate(() -> client.chat().completions().createStreaming(params));
      assertEquals(choice.message().content(), streamed.choices().get(0).message().content(), "temperature 0");
      assertEquals(choice.finishReason(), streamed.choices().get(0).finishReason());
    }

    @Test
    void textCompletionsStreamTheSameTextAsTheWholeAnswer() {
      var params = CompletionCreateParams.builder().model(ClientNode.MODEL).prompt("The river").maxTokens(6).temperature(0.0).build();
      Completion whole = client.completions().create(params);
      CompletionChoice choice = whole.choices().get(0);
      assertTrue(Set.of(CompletionChoice.FinishReason.STOP, CompletionChoice.FinishReason.LENGTH).contains(choice.finishReason()));
      assertFalse(choice.text().isEmpty());

      // Chunks before the last carry finish_reason null, as OpenAI's own do, which the SDK's response
      // validation rejects for completions (its schema marks the field required): stream without it.
      var text = new StringBuilder();
      try (StreamResponse<Completion> s = client.withOptions(o -> o.responseValidation(false)).completions().createStreaming(params)) {
        s.stream().forEach(c -> c.choices().forEach(ch -> text.append(ch.text())));
      }
      assertEquals(choice.text(), text.toString());
    }

    @Test
    void jsonSchemaOutputParsesIntoTheRequestedTypeWholeAndStreamed() {
      StructuredChatCompletionCreateParams<Verdict> params = ChatCompletionCreateParams.builder()
          .model(ClientNode.MODEL).addUserMessage("Is the sky blue?").maxCompletionTokens(600).temperature(0.0)
          .responseFormat(Verdict.class).build();
      StructuredChatCompletion<Verdict> whole = client.chat().completions().create(params);
      var choice = whole.choices().get(0);
      assertEquals(ChatCompletion.Choice.FinishReason.STOP, choice.finishReason(), "the grammar closes the object");
      Verdict v = choice.message().content().orElseThrow();
      assertTrue(v.answer != null, "answer is required by the schema");
      String raw = choice.rawChoice().message().content().orElseThrow();
      assertEquals(Set.of("answer", "certain"), fields(raw), "additionalProperties false: " + raw);

      var acc = ChatCompletionAccumulator.create();
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
        s.stream().forEach(acc::accumulate);
      }
      Verdict streamed = acc.chatCompletion(Verdict.class).choices().get(0).message().content().orElseThrow();
      assertEquals(raw, acc.chatCompletion().choices().get(0).message().content().orElseThrow(), "streamed and whole JSON agree");
      assertEquals(v.answer, streamed.answer);
      assertEquals(v.certain, streamed.certain);
    }

    @Test
    void usageComesInALastChunkOfItsOwnOnlyWhenTheStreamAsksForIt() {
      var asked = chunks(chat("Hello").maxCompletionTokens(5).streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
      ChatCompletionChunk last = asked.get(asked.size() - 1);
      assertTrue(last.choices().isEmpty(), "usage chunk has no choices");
      assertEquals(5, last.usage().orElseThrow().completionTokens());
      for (var c : asked.subList(0, asked.size() - 1)) assertTrue(c.usage().isEmpty(), "usage only in the last chunk");

      for (var c : chunks(chat("Hello").maxCompletionTokens(5).build())) assertTrue(c.usage().isEmpty(), "no usage when not asked");
    }

    @Test
    void theSdkListsAndRetrievesTheServedModel() {
      var listed = client.models().list().items();
      assertTrue(listed.stream().anyMatch(m -> m.id().equals(ClientNode.MODEL)), listed.toString());
      var model = client.models().retrieve(ClientNode.MODEL);
      assertEquals(ClientNode.MODEL, model.id());
      assertEquals(listed.stream().filter(m -> m.id().equals(ClientNode.MODEL)).findFirst().orElseThrow().ownedBy(), model.ownedBy());
      var e = assertThrows(NotFoundException.class, () -> client.models().retrieve("no-such-model"));
      assertEquals("model_not_found", e.code().orElse(null), e.body().toString());
    }

    @Test
    void samplingParametersTheSdkSendsAreHonouredNotRefused() {
      ChatCompletion r = client.chat().completions().create(chat("Hello").maxCompletionTokens(6)
          .presencePenalty(0.5).frequencyPenalty(0.5).topP(0.9).stop("\n\n")
          // deprecated in the SDK for safety_identifier, still sent by older clients
          .putAdditionalBodyProperty("user", JsonValue.from("conformance")).build());
      assertTrue(r.usage().orElseThrow().completionTokens() <= 6, r.toString());
    }

    @Test
    void anUnknownModelIsTheSdksNotFoundException() {
      var e = assertThrows(NotFoundException.class,
          () -> client.chat().completions().create(chat("Hi").model("no-such-model").maxCompletionTokens(2).build()));
      assertEquals(404, e.statusCode());
      assertEquals("model_not_found", e.code().orElse(null), e.body().toString());
    }

    @Test
    void aWrongKeyIsTheSdksUnauthorizedException() {
      OpenAIClient stranger = client.withOptions(o -> o.apiKey("not-a-key"));
      var e = assertThrows(UnauthorizedException.class, () -> stranger.chat().completions().create(chat("Hi").maxCompletionTokens(2).build()));
      assertEquals(401, e.statusCode());
      assertEquals("authentication_failed", e.code().orElse(null), e.body().toString());
    }

    /** Whatever the model says: the bias makes it call the tool with arguments the enum bounds. */
    ChatCompletionCreateParams.Builder forcedToolCall() {
      var bias = ChatCompletionCreateParams.LogitBias.builder();
      toolBias().forEach((token, weight) -> bias.putAdditionalProperty(token, JsonValue.from(weight)));
      return chat("What is the weather in Paris?").maxCompletionTokens(200).addTool(GetWeather.class)
          .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).parallelToolCalls(false).logitBias(bias.build());
    }

    List<ChatCompletionChunk> chunks(ChatCompletionCreateParams params) {
      try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(params)) {
        return s.stream().toList();
      }
    }
  }

  @Nested
  class LlamaServer extends OnEngine {
    @Override
    String engine() {
      return "llama-server";
    }

    @Test
    void requiredToolChoiceForcesACallTheSdkParsesAndTheToolsAnswerCompletesTheRoundTrip() {
      ChatCompletionCreateParams params = forcedToolCall().build();
      ChatCompletion first = client.chat().completions().create(params);
      var choice = first.choices().get(0);
      assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason(), first.toString());
      List<ChatCompletionMessageFunctionToolCall> calls = functionCalls(choice.message().toolCalls().orElseThrow());
      assertEquals(1, calls.size(), "parallel_tool_calls false");
      var call = calls.get(0);
      assertEquals(params.tools().orElseThrow().get(0).asFunction().function().name(), call.function().name());
      assertFalse(call.id().isEmpty(), "a call has an id the tool's answer refers to");
      GetWeather args = call.function().arguments(GetWeather.class);
      assertTrue(args.city != null, call.function().arguments());

      // streamed, as the SDK's accumulator reassembles delta.tool_calls: the same call at temperature 0
      ChatCompletion streamed = accumulate(() -> client.chat().completions().createStreaming(params));
      assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, streamed.choices().get(0).finishReason());
      var streamedCalls = functionCalls(streamed.choices().get(0).message().toolCalls().orElseThrow());
      assertEquals(1, streamedCalls.size());
      assertEquals(call.function().name(), streamedCalls.get(0).function().name());
      assertEquals(ApiClient.JSON.valueToTree(args), ApiClient.JSON.valueToTree(streamedCalls.get(0).function().arguments(GetWeather.class)));

      // the SDK puts the assistant turn and the tool's answer back in the history; tool_choice none: text
      ChatCompletion answer = client.chat().completions().create(chat("What is the weather in Paris?").maxCompletionTokens(12)
          .addTool(GetWeather.class).toolChoice(ChatCompletionToolChoiceOption.Auto.NONE)
          .addMessage(choice.message())
          .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"temperature_c\": 21}").build())
          .build());
      var last = answer.choices().get(0);
      assertTrue(last.message().toolCalls().map(List::isEmpty).orElse(true), answer.toString());
      assertTrue(Set.of(ChatCompletion.Choice.FinishReason.STOP, ChatCompletion.Choice.FinishReason.LENGTH).contains(last.finishReason()));
      assertTrue(last.message().content().isPresent());
    }

    @Test
    void aNamedToolChoiceCallsThatToolWholeAndStreamed() {
      String name = forcedToolCall().build().tools().orElseThrow().get(0).asFunction().function().name();
      ChatCompletionCreateParams params = forcedToolCall().toolChoice(ChatCompletionNamedToolChoice.builder()
          .function(ChatCompletionNamedToolChoice.Function.builder().name(name).build()).build()).build();
      ChatCompletion r = client.chat().completions().create(params);
      assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, r.choices().get(0).finishReason(), r.toString());
      var whole = functionCalls(r.choices().get(0).message().toolCalls().orElseThrow());
      ChatCompletion s = accumulate(() -> client.chat().completions().createStreaming(params));
      var streamed = functionCalls(s.choices().get(0).message().toolCalls().orElseThrow(() -> new AssertionError(s.toString())));
      assertEquals(name, whole.get(0).function().name());
      assertEquals(name, streamed.get(0).function().name());
      assertEquals(whole.get(0).function().arguments(), streamed.get(0).function().arguments(), "temperature 0");
    }

    @Test
    void logprobsHaveOneEntryPerTokenAndSpellTheText() {
      ChatCompletion r = client.chat().completions().create(chat("Hello").maxCompletionTokens(8).logprobs(true).topLogprobs(2).build());
      var choice = r.choices().get(0);
      List<ChatCompletionTokenLogprob> lp = choice.logprobs().orElseThrow().content().orElseThrow();
      assertEquals(r.usage().orElseThrow().completionTokens(), lp.size());
      var spelled = new StringBuilder();
      for (var t : lp) {
        spelled.append(t.token());
        assertTrue(t.logprob() <= 0, t.toString());
        assertEquals(2, t.topLogprobs().size(), t.toString());
        assertTrue(t.bytes().isPresent());
      }
      assertEquals(choice.message().content().orElse(""), spelled.toString());

      Completion text = client.completions().create(
          CompletionCreateParams.builder().model(ClientNode.MODEL).prompt("The river").maxTokens(4).temperature(0.0).logprobs(2).build());
      var tl = text.choices().get(0).logprobs().orElseThrow();
      List<String> tokens = tl.tokens().orElseThrow();
      assertEquals(tokens.size(), tl.tokenLogprobs().orElseThrow().size());
      assertEquals(String.join("", tokens), text.choices().get(0).text());
      assertEquals(0L, tl.textOffset().orElseThrow().get(0));
    }

    @Test
    void threeChoicesAreThreeSequencesAndUsageCountsThemAll() {
      ChatCompletion r = client.chat().completions().create(chat("Hello").maxCompletionTokens(6).temperature(1.0).n(3).build());
      assertEquals(3, r.choices().size(), r.toString());
      for (int i = 0; i < 3; i++) {
        var c = r.choices().get(i);
        assertEquals(i, c.index());
        assertTrue(c.message().content().isPresent());
      }
      assertTrue(r.usage().orElseThrow().completionTokens() > 6, "usage sums the choices: " + r.usage());
    }
  }

  @Nested
  class InProcess extends OnEngine {
    @Override
    String engine() {
      return "llama-inprocess";
    }

    @Test
    void toolsLogprobsAndSeveralChoicesAreTheSdksBadRequestNamingTheEngine() {
      List<Runnable> refused = List.of(
          () -> client.chat().completions().create(forcedToolCall().build()),
          () -> client.chat().completions().create(chat("Hello").maxCompletionTokens(4).logprobs(true).build()),
          () -> client.chat().completions().create(chat("Hello").maxCompletionTokens(4).n(3).build()));
      for (Runnable r : refused) {
        var e = assertThrows(BadRequestException.class, r::run);
        assertEquals("unsupported_parameter", e.code().orElse(null), e.body().toString());
        assertTrue(e.getMessage().contains("llama-inprocess"), "names the engine: " + e.getMessage());
      }
      // streamed too: the refusal comes before the stream starts, so it is the same typed exception
      OpenAIServiceException e = assertThrows(BadRequestException.class, () -> chunks(forcedToolCall().build()));
      assertEquals("unsupported_parameter", e.code().orElse(null));
    }
  }

  static ChatCompletionCreateParams.Builder chat(String prompt) {
    return ChatCompletionCreateParams.builder().model(ClientNode.MODEL).addUserMessage(prompt).temperature(0.0);
  }

  /** A stream reassembled by the SDK's own accumulator, as an application would. */
  static ChatCompletion accumulate(Supplier<StreamResponse<ChatCompletionChunk>> stream) {
    var acc = ChatCompletionAccumulator.create();
    try (var s = stream.get()) {
      s.stream().forEach(acc::accumulate);
    }
    return acc.chatCompletion();
  }

  static List<ChatCompletionMessageFunctionToolCall> functionCalls(List<com.openai.models.chat.completions.ChatCompletionMessageToolCall> calls) {
    var out = new ArrayList<ChatCompletionMessageFunctionToolCall>();
    for (var c : calls) out.add(c.asFunction());
    return out;
  }

  /** {@link OpenAiSurfaceConformanceTest#toolBias()} as a map: token id to bias. */
  static java.util.Map<String, Integer> toolBias() {
    try {
      var out = new java.util.LinkedHashMap<String, Integer>();
      ApiClient.json(OpenAiSurfaceConformanceTest.toolBias()).properties().forEach(f -> out.put(f.getKey(), f.getValue().asInt()));
      return out;
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  private static Set<String> fields(String json) {
    try {
      JsonNode o = ApiClient.json(json);
      var out = new java.util.HashSet<String>();
      o.fieldNames().forEachRemaining(out::add);
      return out;
    } catch (java.io.IOException e) {
      throw new AssertionError(json + " is not JSON", e);
    }
  }
}
