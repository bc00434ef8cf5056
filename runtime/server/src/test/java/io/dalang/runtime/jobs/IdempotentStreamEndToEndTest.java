package io.dalang.runtime.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.grpc.v1.GenerateEvent;
import io.dalang.grpc.v1.GenerateRequest;
import io.dalang.grpc.v1.InferenceClient;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A streaming request repeated with the same {@code Idempotency-Key} while the first still runs gets
 * the live stream from its start, over HTTP and gRPC, against the real engine; the run survives its
 * first client hanging up; a finished one is answered from the stored result.
 */
class IdempotentStreamEndToEndTest {
  static final String KEY = "live-" + Long.toHexString(System.nanoTime());
  static final int TOKENS = 600;
  /** Long enough (hundreds of tokens, while a repeat takes a few messages to attach) that the repeat is sent while the first runs. */
  static final String LONG = """
      {"model": "dalang-demo", "prompt": "Once upon a time", "max_tokens": %d, "temperature": 0, "seed": 11, "stream": true}""".formatted(TOKENS);

  @TempDir static Path data;
  static DalangNode node;
  static ApiClient app;

  @BeforeAll
  static void start() throws Exception {
    node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withDemoKey(KEY), System.out);
    app = new ApiClient(node.httpPort(), KEY);
    app.awaitReady(Duration.ofSeconds(90));
  }

  @AfterAll
  static void stop() {
    if (node != null) node.close();
  }

  /** An SSE response read event by event. */
  static final class Sse {
    final HttpResponse<java.io.InputStream> response;
    final BufferedReader reader;
    final StringBuilder text = new StringBuilder();
    String finishReason;
    int events;

    Sse(HttpResponse<java.io.InputStream> response) {
      this.response = response;
      this.reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8));
    }

    String header(String name) {
      return response.headers().firstValue(name).orElse("");
    }

    /** Reads up to {@code n} more data events; false when the stream ended ({@code [DONE]}). */
    boolean read(int n) throws Exception {
      for (int read = 0; read < n; ) {
        String line = reader.readLine();
        if (line == null) throw new AssertionError("the stream ended without [DONE]; text so far: " + text);
        if (!line.startsWith("data: ")) continue;
        String payload = line.substring(6);
        if (payload.equals("[DONE]")) return false;
        JsonNode chunk = ApiClient.json(payload);
        if (chunk.has("error")) throw new AssertionError("error in the stream: " + payload);
        text.append(chunk.at("/choices/0/text").asText(""));
        if (chunk.at("/choices/0/finish_reason").isTextual()) finishReason = chunk.at("/choices/0/finish_reason").asText();
        events++;
        read++;
      }
      return true;
    }

    Sse readAll() throws Exception {
      while (read(Integer.MAX_VALUE)) { }
      return this;
    }
  }

  static Sse stream(String body, String key) throws Exception {
    var r = app.postStream("/v1/completions", body, "Idempotency-Key", key);
    assertEquals(200, r.statusCode(), () -> new String(uncheckedRead(r), StandardCharsets.UTF_8));
    return new Sse(r);
  }

  static byte[] uncheckedRead(HttpResponse<java.io.InputStream> r) {
    try {
      return r.body().readAllBytes();
    } catch (java.io.IOException e) {
      return new byte[0];
    }
  }

  @Test
  void aRepeatWhileTheFirstStreamsGetsTheWholeLiveStreamAndAFinishedOneTheStoredResult() throws Exception {
    var first = stream(LONG, "story-1");
    assertTrue(first.read(5), "the first stream is under way");
    assertTrue(List.of("queued", "running").contains(first.header("x-dalang-job-state")), first.header("x-dalang-job-state"));

    var second = stream(LONG, "story-1");
    assertEquals("true", second.header("Idempotent-Replayed"));
    assertEquals(first.header("x-dalang-job-id"), second.header("x-dalang-job-id"), "the same job");
    assertEquals("running", second.header("x-dalang-job-state"), "attached to the live run, not its stored result");
    second.readAll();
    first.readAll();
    assertEquals(first.text.toString(), second.text.toString(),
        "the repeat sees the whole completion, replayed from the start");
    assertFalse(first.text.isEmpty());
    assertEquals("length", second.finishReason);

    JsonNode job = JobsEndToEndTest.awaitFinished(app, first.header("x-dalang-job-id"));
    assertEquals(1, job.get("attempts").size(), "one run served both clients");
    assertEquals(TOKENS, job.at("/result/usage/completion_tokens").asInt());

    var stored = stream(LONG, "story-1");
    assertEquals("succeeded", stored.header("x-dalang-job-state"));
    assertEquals(first.text.toString(), stored.readAll().text.toString(), "after it finished: the stored result");

    var conflict = app.post("/v1/completions", LONG.replace("Once upon a time", "Far away"), Map.of("Idempotency-Key", "story-1"));
    assertEquals(409, conflict.statusCode(), conflict.body());
    assertEquals("idempotency_conflict", ApiClient.json(conflict.body()).at("/error/code").asText());
  }

  @Test
  void aKeyedRunGoesOnWhenItsClientHangsUpAndARetryGetsTheWholeCompletion() throws Exception {
    Map<String, String> headers = app.streamThenHangUp("/v1/completions", LONG, 3, Map.of("Idempotency-Key", "hang-up"));
    String jobId = headers.get("x-dalang-job-id");
    assertTrue(jobId != null && jobId.startsWith("job_"), headers.toString());

    var retry = stream(LONG, "hang-up");
    assertEquals(jobId, retry.header("x-dalang-job-id"));
    String text = retry.readAll().text.toString();
    JsonNode job = JobsEndToEndTest.awaitFinished(app, jobId);
    assertEquals("succeeded", job.get("state").asText(), job.toString());
    assertEquals(job.at("/result/choices/0/text").asText(), text, "the retry got the whole completion");
    assertEquals(1, job.get("attempts").size(), "the hang-up neither cancelled nor restarted the run");
    assertEquals(TOKENS, job.at("/result/usage/completion_tokens").asInt());
  }

  @Test
  void overGrpcARepeatWhileTheFirstStreamsGetsTheWholeLiveStream() throws Exception {
    var clientSystem = ActorSystem.create(Behaviors.empty(), "live-grpc-client");
    var inference = InferenceClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", node.grpcPort(), clientSystem).withTls(false),
        clientSystem);
    try {
      var request = GenerateRequest.newBuilder().setModel("dalang-demo").setPrompt("Once upon a time").setMaxTokens(TOKENS)
          .setTemperature(0).setSeed(11).build();
      var first = inference.generate().addHeader("authorization", "Bearer " + KEY).addHeader("idempotency-key", "grpc-story")
          .invoke(request).runWith(Sink.queue(), clientSystem);
      var head = new StringBuilder();
      for (int i = 0; i < 5; i++) {
        GenerateEvent e = first.pull().toCompletableFuture().get(60, TimeUnit.SECONDS).orElseThrow();
        if (e.hasToken()) head.append(e.getToken().getText());
      }
      List<GenerateEvent> second = inference.generate().addHeader("authorization", "Bearer " + KEY).addHeader("idempotency-key", "grpc-story")
          .invoke(request).runWith(Sink.seq(), clientSystem).toCompletableFuture().get(120, TimeUnit.SECONDS);
      var rest = new StringBuilder(head);
      for (var e = first.pull().toCompletableFuture().get(60, TimeUnit.SECONDS); e.isPresent();
          e = first.pull().toCompletableFuture().get(60, TimeUnit.SECONDS)) {
        if (e.get().hasToken()) rest.append(e.get().getToken().getText());
      }
      assertEquals(GenerateEvent.EventCase.STARTED, second.get(0).getEventCase());
      assertTrue(second.size() > 3, "token by token, live, not one stored result: " + second.size() + " events");
      var end = second.get(second.size() - 1);
      assertEquals(TOKENS, end.getEnd().getUsage().getCompletionTokens());
      var text = new StringBuilder();
      second.stream().filter(GenerateEvent::hasToken).forEach(e -> text.append(e.getToken().getText()));
      assertEquals(rest.toString(), text.toString(), "the repeat sees the whole completion");
    } finally {
      inference.close();
      clientSystem.terminate();
    }
  }
}
