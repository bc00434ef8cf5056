package io.dalang.runtime.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import io.dalang.engine.sim.SimProfile;
import io.dalang.runtime.http.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code dalang sim engine}'s API with real clients over loopback: the official OpenAI Java SDK and plain HTTP. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SimEngineServerTest {
  static final String MODEL = "sim-model";
  SimEngineServer server;
  OpenAIClient client;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start() {
    server = SimEngineServer.start(new SimProfile(5, 1, 0, 0, 0.2, 7, 16), MODEL, "127.0.0.1", 0);
    client = OpenAIOkHttpClient.builder().baseUrl(server.baseUrl()).apiKey("unused").maxRetries(0).responseValidation(true).build();
  }

  @AfterAll
  void stop() {
    if (client != null) client.close();
    if (server != null) server.close();
  }

  static ChatCompletionCreateParams.Builder chat(String prompt) {
    return ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(prompt);
  }

  ChatCompletion streamed(ChatCompletionCreateParams params) {
    var acc = ChatCompletionAccumulator.create();
    try (var s = client.chat().completions().createStreaming(params)) {
      s.stream().forEach(acc::accumulate);
    }
    return acc.chatCompletion();
  }

  @Test
  void streamsAChatToTheOpenAiSdkWithUsageWhenAsked() {
    var params = chat("Say something").maxCompletionTokens(8).seed(3).build();
    ChatCompletion c = streamed(params.toBuilder().streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
    var choice = c.choices().get(0);
    assertEquals(ChatCompletion.Choice.FinishReason.LENGTH, choice.finishReason());
    String text = choice.message().content().orElseThrow();
    assertEquals(8, text.strip().split(" ").length, text);
    assertEquals(8, c.usage().orElseThrow().completionTokens());
    assertEquals(MODEL, c.model());

    ChatCompletion whole = client.chat().completions().create(params);
    assertEquals(text, whole.choices().get(0).message().content().orElseThrow(), "a stream and a whole answer say the same");
  }

  @Test
  void answersATextCompletionWholeWithUsage() {
    Completion c = client.completions().create(CompletionCreateParams.builder().model(MODEL).prompt("The river is").maxTokens(5).build());
    CompletionChoice choice = c.choices().get(0);
    assertEquals(CompletionChoice.FinishReason.LENGTH, choice.finishReason());
    assertFalse(choice.text().isBlank());
    var usage = c.usage().orElseThrow();
    assertEquals(5, usage.completionTokens());
    assertEquals(3, usage.promptTokens(), "the prompt's words");
  }

  @Test
  void theSameSeedGivesTheSameTextAndAnotherSeedAnother() {
    String a = client.chat().completions().create(chat("Tell me").maxCompletionTokens(12).seed(11).build()).choices().get(0).message().content().orElseThrow();
    String b = client.chat().completions().create(chat("Tell me").maxCompletionTokens(12).seed(11).build()).choices().get(0).message().content().orElseThrow();
    String c = client.chat().completions().create(chat("Tell me").maxCompletionTokens(12).seed(12).build()).choices().get(0).message().content().orElseThrow();
    assertEquals(a, b);
    assertNotEquals(a, c);
  }

  @Test
  void refusesAMalformedBodyAndAnotherModelWithOpenAiErrors() throws Exception {
    var r = post("/v1/chat/completions", "{\"model\": \"sim-model\", \"messages\": [");
    assertEquals(400, r.statusCode());
    JsonNode error = Json.MAPPER.readTree(r.body()).path("error");
    assertFalse(error.path("message").asText().isEmpty(), r.body());
    assertEquals("invalid_request_error", error.path("type").asText(), r.body());

    assertThrows(NotFoundException.class, () -> client.chat().completions().create(
        ChatCompletionCreateParams.builder().model("other").addUserMessage("hi").build()));
    assertThrows(BadRequestException.class, () -> client.chat().completions().create(chat("hi").logprobs(true).build()),
        "logprobs are not simulated");
  }

  @Test
  void servesHealthModelsAndPrometheusMetrics() throws Exception {
    var health = get("/health");
    assertEquals(200, health.statusCode());
    assertEquals("ok", Json.MAPPER.readTree(health.body()).path("status").asText());
    assertEquals(MODEL, client.models().list().data().get(0).id());

    client.completions().create(CompletionCreateParams.builder().model(MODEL).prompt("x").maxTokens(2).build());
    String metrics = get("/metrics").body();
    for (String gauge : List.of("vllm:num_requests_running", "vllm:num_requests_waiting")) {
      assertTrue(metrics.contains("# TYPE " + gauge + " gauge\n"), metrics);
      assertTrue(Pattern.compile("(?m)^" + Pattern.quote(gauge + "{model_name=\"" + MODEL + "\"}") + " \\d+$").matcher(metrics).find(), metrics);
    }
    var received = Pattern.compile("(?m)^dalang_sim_requests_received_total\\{model_name=\"sim-model\"\\} (\\d+)$").matcher(metrics);
    assertTrue(received.find(), metrics);
    assertTrue(Long.parseLong(received.group(1)) >= 1);
  }

  @Test
  void requestsBeyondMaxSequencesWaitAndAreCountedWaiting() throws Exception {
    try (var small = SimEngineServer.start(new SimProfile(1, 100, 5, 0, 0, 1, 1), "slow", "127.0.0.1", 0)) {
      String base = small.baseUrl().replace("/v1", "");
      var answers = new ArrayList<CompletableFuture<HttpResponse<String>>>();
      for (int i = 0; i < 3; i++) {
        answers.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
            .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"slow\", \"prompt\": \"p" + i + "\", \"max_tokens\": 5}")).build(),
            HttpResponse.BodyHandlers.ofString()));
      }
      String metrics = awaitMetrics(base, "vllm:num_requests_waiting{model_name=\"slow\"} 2");
      assertTrue(metrics.contains("vllm:num_requests_running{model_name=\"slow\"} 1"), metrics);
      assertTrue(metrics.contains("vllm:num_requests_waiting{model_name=\"slow\"} 2"), metrics);
      for (var a : answers) assertEquals(200, a.get().statusCode());
    }
  }

  @Test
  void aStreamingClientThatHangsUpCancelsItsRequest() throws Exception {
    try (var slow = SimEngineServer.start(new SimProfile(1, 50, 0, 0, 0, 1, 4), "slow", "127.0.0.1", 0)) {
      String base = slow.baseUrl().replace("/v1", "");
      var response = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/completions"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"slow\", \"prompt\": \"p\", \"max_tokens\": 1000, \"stream\": true}")).build(),
          HttpResponse.BodyHandlers.ofInputStream());
      try (var body = response.body()) {
        assertTrue(new String(body.readNBytes(6)).startsWith("data: "));
      }
      String metrics = awaitMetrics(base, "outcome=\"cancelled\"} 1");
      assertTrue(metrics.contains("dalang_sim_requests_ended_total{model_name=\"slow\",outcome=\"cancelled\"} 1"), metrics);
      assertTrue(metrics.contains("vllm:num_requests_running{model_name=\"slow\"} 0"), metrics);
    }
  }

  /** The server's metrics once they contain {@code line}, or as they are after 5 seconds. */
  private String awaitMetrics(String base, String line) throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    String metrics = "";
    while (System.nanoTime() < deadline && !metrics.contains(line)) {
      metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
      Thread.sleep(20);
    }
    return metrics;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(server.baseUrl().replace("/v1", "") + path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(server.baseUrl().replace("/v1", "") + path))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
