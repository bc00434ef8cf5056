package io.dalang.runtime.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.grpc.v1.AdminClient;
import io.dalang.grpc.v1.ChatMessage;
import io.dalang.grpc.v1.GenerateEvent;
import io.dalang.grpc.v1.GenerateRequest;
import io.dalang.grpc.v1.GetJobRequest;
import io.dalang.grpc.v1.InferenceClient;
import io.dalang.grpc.v1.JobReply;
import io.dalang.grpc.v1.JobsClient;
import io.dalang.grpc.v1.SubmitJobRequest;
import io.dalang.grpc.v1.ListSlotsRequest;
import io.dalang.grpc.v1.ListTenantsRequest;
import io.dalang.grpc.v1.Messages;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.grpc.ManagedChannelBuilder;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC API with the generated Java client over loopback, against a real node and engine. */
class GrpcEndToEndTest {
  @TempDir static Path data;
  static DalangNode node;
  static ActorSystem<Void> clientSystem;
  static InferenceClient inference;
  static JobsClient jobs;
  static AdminClient admin;
  static String key;
  static String adminKey;

  @BeforeAll
  static void start() throws Exception {
    key = "grpc-" + Long.toHexString(System.nanoTime());
    node = DalangNode.start(new ServeOptions(data, 0, null, 0, null, null, key), System.out);
    new ApiClient(node.httpPort(), key).awaitReady(Duration.ofSeconds(90));
    adminKey = Files.readString(data.resolve("admin.key")).strip();
    clientSystem = ActorSystem.create(Behaviors.empty(), "grpc-client");
    var settings = GrpcClientSettings.connectToServiceAt("127.0.0.1", node.grpcPort(), clientSystem).withTls(false);
    inference = InferenceClient.create(settings, clientSystem);
    admin = AdminClient.create(settings, clientSystem);
    jobs = JobsClient.create(settings, clientSystem);
  }

  @AfterAll
  static void stop() {
    if (inference != null) inference.close();
    if (admin != null) admin.close();
    if (jobs != null) jobs.close();
    if (clientSystem != null) clientSystem.terminate();
    if (node != null) node.close();
  }

  static GenerateRequest chat(String text, int maxTokens) {
    return GenerateRequest.newBuilder().setModel("dalang-demo").setMaxTokens(maxTokens).setTemperature(0).setSeed(3)
        .setChat(Messages.newBuilder().addMessages(ChatMessage.newBuilder().setRole("user").setContent(text))).build();
  }

  static <T> T await(CompletionStage<T> s) throws Exception {
    return s.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  static StatusRuntimeException failure(CompletionStage<?> s) {
    var e = assertThrows(ExecutionException.class, () -> s.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return assertInstanceOf(StatusRuntimeException.class, e.getCause(), String.valueOf(e.getCause()));
  }

  static String errorCode(StatusRuntimeException e) {
    return e.getTrailers().get(io.grpc.Metadata.Key.of("dalang-error-code", io.grpc.Metadata.ASCII_STRING_MARSHALLER));
  }

  @Test
  void jobsAreSubmittedAndReadLikeTheHttpJobsApiWithTheSameIdempotencyRules() throws Exception {
    var submit = SubmitJobRequest.newBuilder().setRequest(chat("Tell me about rivers", 8)).build();
    JobReply ack = await(jobs.submitJob().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "gj-1").invoke(submit));
    String jobId = ack.getJob().getId();
    assertTrue(jobId.startsWith("job_"), jobId);
    assertFalse(ack.getReplayed());
    assertEquals("chat", ack.getJob().getType());
    assertEquals("gj-1", ack.getJob().getIdempotencyKey());

    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    JobReply got = await(jobs.getJob().addHeader("authorization", "Bearer " + key).invoke(GetJobRequest.newBuilder().setJobId(jobId).build()));
    while (!got.getJob().getState().equals("succeeded") && System.nanoTime() < deadline) {
      Thread.sleep(50);
      got = await(jobs.getJob().addHeader("authorization", "Bearer " + key).invoke(GetJobRequest.newBuilder().setJobId(jobId).build()));
    }
    assertEquals("succeeded", got.getJob().getState(), got.toString());
    assertEquals(8, got.getJob().getResult().getUsage().getCompletionTokens());
    assertFalse(got.getJob().getResult().getText().isEmpty());
    assertEquals(1, got.getJob().getAttemptsCount());

    JobReply again = await(jobs.submitJob().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "gj-1").invoke(submit));
    assertTrue(again.getReplayed());
    assertEquals(jobId, again.getJob().getId());
    assertEquals(got.getJob().getResult(), again.getJob().getResult(), "the stored result");

    var conflict = failure(jobs.submitJob().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "gj-1")
        .invoke(SubmitJobRequest.newBuilder().setRequest(chat("Tell me about mountains", 8)).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, conflict.getStatus().getCode());
    assertEquals("idempotency_conflict", errorCode(conflict));
    var missing = failure(jobs.getJob().addHeader("authorization", "Bearer " + key).invoke(GetJobRequest.newBuilder().setJobId("job_nothere").build()));
    assertEquals(Status.Code.NOT_FOUND, missing.getStatus().getCode());
    var withDeadline = failure(jobs.submitJob().addHeader("authorization", "Bearer " + key)
        .invoke(SubmitJobRequest.newBuilder().setRequest(chat("hi", 4).toBuilder().setDeadlineMs(100)).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, withDeadline.getStatus().getCode());
    assertEquals("deadline_ms", withDeadline.getTrailers().get(io.grpc.Metadata.Key.of("dalang-error-param", io.grpc.Metadata.ASCII_STRING_MARSHALLER)));
    var unauthenticated = failure(jobs.getJob().invoke(GetJobRequest.newBuilder().setJobId(jobId).build()));
    assertEquals(Status.Code.UNAUTHENTICATED, unauthenticated.getStatus().getCode());
  }

  @Test
  void anIdempotencyKeyGivesTheStoredResultAgainAndRefusesAnotherRequestUnderIt() throws Exception {
    var first = await(inference.complete().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "g-1")
        .invoke(chat("Once upon a time", 6)));
    assertTrue(first.getRunId().matches("run_[a-z0-9]+-1"), first.getRunId());
    var again = await(inference.complete().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "g-1")
        .invoke(chat("Once upon a time", 6)));
    assertEquals(first, again, "the stored result, not a new run");
    List<GenerateEvent> streamed = await(inference.generate().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "g-2")
        .invoke(chat("Once upon a time", 6)).runWith(Sink.seq(), clientSystem));
    assertEquals(GenerateEvent.EventCase.STARTED, streamed.get(0).getEventCase());
    var streamedText = new StringBuilder();
    streamed.stream().filter(GenerateEvent::hasToken).forEach(e -> streamedText.append(e.getToken().getText()));
    assertEquals(first.getText(), streamedText.toString(), "temperature 0 and a seed: the same text");
    assertEquals(6, streamed.get(streamed.size() - 1).getEnd().getUsage().getCompletionTokens());
    var conflict = failure(inference.complete().addHeader("authorization", "Bearer " + key).addHeader("idempotency-key", "g-1")
        .invoke(chat("Something else", 6)));
    assertEquals(Status.Code.FAILED_PRECONDITION, conflict.getStatus().getCode());
    assertEquals("idempotency_conflict", conflict.getTrailers().get(io.grpc.Metadata.Key.of("dalang-error-code", io.grpc.Metadata.ASCII_STRING_MARSHALLER)));
  }

  @Test
  void generateStreamsStartedTokensAndEndAndCompleteGivesTheSameText() throws Exception {
    List<GenerateEvent> events = await(inference.generate().addHeader("authorization", "Bearer " + key).invoke(chat("Tell me a story", 24))
        .runWith(Sink.seq(), clientSystem));
    assertEquals(GenerateEvent.EventCase.STARTED, events.get(0).getEventCase());
    assertTrue(events.get(0).getStarted().getRunId().startsWith("run_"));
    var end = events.get(events.size() - 1);
    assertEquals(GenerateEvent.EventCase.END, end.getEventCase());
    var tokens = events.subList(1, events.size() - 1);
    assertFalse(tokens.isEmpty());
    tokens.forEach(e -> assertEquals(GenerateEvent.EventCase.TOKEN, e.getEventCase()));
    assertEquals(tokens.size(), end.getEnd().getUsage().getCompletionTokens());
    String streamed = tokens.stream().map(e -> e.getToken().getText()).reduce("", String::concat);

    var whole = await(inference.complete().addHeader("authorization", "Bearer " + key).invoke(chat("Tell me a story", 24)));
    assertEquals(streamed, whole.getText(), "temperature 0 and a seed: the same run twice");
    assertEquals(end.getEnd().getFinishReason(), whole.getFinishReason());
    // The run is the same kind of run the HTTP API makes: its record is there.
    var record = new ApiClient(node.httpPort(), key).get("/v1/runs/" + whole.getRunId());
    assertEquals(200, record.statusCode(), record.body());
    assertTrue(record.body().contains("\"outcome\":\"ok\""), record.body());
  }

  @Test
  void embedGivesOneVectorPerInputOfTheModelsWidthAndAChatModelIsATypedError() throws Exception {
    var request = io.dalang.grpc.v1.EmbedRequest.newBuilder().setModel("dalang-demo-embed").addInput("one").addInput("two words").build();
    io.dalang.grpc.v1.EmbedResponse r = null;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (r == null) { // the embedding pool's slot starts beside the demo pool's
      try {
        r = await(inference.embed().addHeader("authorization", "Bearer " + key).invoke(request));
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof StatusRuntimeException s && s.getStatus().getCode() == Status.Code.UNAVAILABLE) || System.nanoTime() > until) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
    assertTrue(r.getRunId().startsWith("run_"));
    assertEquals(2, r.getDataCount());
    for (int i = 0; i < 2; i++) {
      assertEquals(i, r.getData(i).getIndex());
      assertEquals(io.dalang.gguf.TinyModel.DEMO.width(), r.getData(i).getValuesCount());
    }
    assertTrue(r.getUsage().getPromptTokens() > 0);

    var chatModel = failure(inference.embed().addHeader("authorization", "Bearer " + key)
        .invoke(io.dalang.grpc.v1.EmbedRequest.newBuilder().setModel("dalang-demo").addInput("x").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, chatModel.getStatus().getCode());
    assertEquals("unsupported_parameter", errorCode(chatModel));
    var noInput = failure(inference.embed().addHeader("authorization", "Bearer " + key)
        .invoke(io.dalang.grpc.v1.EmbedRequest.newBuilder().setModel("dalang-demo-embed").build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, noInput.getStatus().getCode());
  }

  @Test
  void errorsMapToGrpcStatusesWithTheDalangCodeInTheTrailers() throws Exception {
    var noKey = failure(inference.complete().invoke(chat("hi", 4)));
    assertEquals(Status.Code.UNAUTHENTICATED, noKey.getStatus().getCode());
    assertEquals("authentication_failed", noKey.getTrailers().get(io.grpc.Metadata.Key.of("dalang-error-code", io.grpc.Metadata.ASCII_STRING_MARSHALLER)));

    var unknown = failure(inference.complete().addHeader("authorization", "Bearer " + key)
        .invoke(GenerateRequest.newBuilder(chat("hi", 4)).setModel("no-such-model").build()));
    assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
    assertTrue(unknown.getStatus().getDescription().contains("no-such-model"));

    var noInput = failure(inference.generate().addHeader("authorization", "Bearer " + key)
        .invoke(GenerateRequest.newBuilder().setModel("dalang-demo").build()).runWith(Sink.seq(), clientSystem));
    assertEquals(Status.Code.INVALID_ARGUMENT, noInput.getStatus().getCode());
    assertEquals("input", noInput.getTrailers().get(io.grpc.Metadata.Key.of("dalang-error-param", io.grpc.Metadata.ASCII_STRING_MARSHALLER)));
    assertEquals("false", noInput.getTrailers().get(io.grpc.Metadata.Key.of("dalang-retriable", io.grpc.Metadata.ASCII_STRING_MARSHALLER)));

    var platformKey = failure(inference.complete().addHeader("authorization", "Bearer " + adminKey).invoke(chat("hi", 4)));
    assertEquals(Status.Code.PERMISSION_DENIED, platformKey.getStatus().getCode());
  }

  @Test
  void cancellingTheCallCancelsTheRun() throws Exception {
    var first = await(inference.generate().addHeader("authorization", "Bearer " + key).invoke(chat("Go on and on", 4000))
        .take(3).runWith(Sink.seq(), clientSystem));
    String runId = first.get(0).getStarted().getRunId();
    var api = new ApiClient(node.httpPort(), key);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String body = "";
    while (System.nanoTime() < deadline) {
      var r = api.get("/v1/runs/" + runId);
      body = r.body();
      if (r.statusCode() == 200) break;
      Thread.sleep(100);
    }
    var run = ApiClient.json(body);
    assertEquals("cancelled", run.get("outcome").asText(), body);
    assertTrue(run.get("completion_tokens").asInt() < 4000, body);
  }

  @Test
  void adminListsSlotsAndTenantsForPlatformKeysAndOnlyItsOwnTenantForATenantAdmin() throws Exception {
    var slots = await(admin.listSlots().addHeader("authorization", "Bearer " + adminKey).invoke(ListSlotsRequest.getDefaultInstance()));
    assertTrue(slots.getSlotsList().stream().anyMatch(s -> s.getPoolId().equals("demo") && s.getState().equals("Ready")), slots.toString());
    var denied = failure(admin.listSlots().addHeader("authorization", "Bearer " + key).invoke(ListSlotsRequest.getDefaultInstance()));
    assertEquals(Status.Code.PERMISSION_DENIED, denied.getStatus().getCode());

    var all = await(admin.listTenants().addHeader("authorization", "Bearer " + adminKey).invoke(ListTenantsRequest.getDefaultInstance()));
    assertTrue(all.getTenantsList().stream().anyMatch(t -> t.getTenantId().equals("demo")), all.toString());
    var own = await(admin.listTenants().addHeader("authorization", "Bearer " + key).invoke(ListTenantsRequest.getDefaultInstance()));
    assertEquals(List.of("demo"), own.getTenantsList().stream().map(t -> t.getTenantId()).toList());

    var nodes = await(admin.listNodes().addHeader("authorization", "Bearer " + adminKey).invoke(io.dalang.grpc.v1.ListNodesRequest.getDefaultInstance()));
    assertEquals(1, nodes.getNodesCount(), nodes.toString());
    assertEquals("Up", nodes.getNodes(0).getStatus());
    assertEquals(node.nodeId(), nodes.getNodes(0).getNodeId());
    assertTrue(nodes.getNodes(0).getSlotIdsList().contains("demo-0"), nodes.toString());
  }

  /** A generic client (no generated stubs), as grpcurl does it: server reflection lists the services. */
  @Test
  void serverReflectionListsTheServices() throws Exception {
    var channel = ManagedChannelBuilder.forAddress("127.0.0.1", node.grpcPort()).usePlaintext().build();
    try {
      MethodDescriptor.Marshaller<byte[]> bytes = new MethodDescriptor.Marshaller<>() {
        @Override public InputStream stream(byte[] value) { return new ByteArrayInputStream(value); }
        @Override public byte[] parse(InputStream stream) {
          try { return stream.readAllBytes(); } catch (java.io.IOException e) { throw new IllegalStateException(e); }
        }
      };
      var method = MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName("grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo").setRequestMarshaller(bytes)
          .setResponseMarshaller(bytes).build();
      var answer = new CompletableFuture<byte[]>();
      var requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(method, io.grpc.CallOptions.DEFAULT), new StreamObserver<byte[]>() {
        @Override public void onNext(byte[] value) { answer.complete(value); }
        @Override public void onError(Throwable t) { answer.completeExceptionally(t); }
        @Override public void onCompleted() { answer.complete(new byte[0]); }
      });
      requests.onNext(new byte[] {0x3A, 0x00}); // ServerReflectionRequest { list_services: "" }
      String response = new String(answer.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
      requests.onCompleted();
      assertTrue(response.contains("dalang.v1.Inference"), response);
      assertTrue(response.contains("dalang.v1.Admin"), response);
      assertTrue(response.contains("dalang.v1.Jobs"), response);
    } finally {
      channel.shutdownNow();
    }
  }
}
