package io.dalang.runtime.grpc;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.dalang.grpc.v1.CompleteResponse;
import io.dalang.grpc.v1.End;
import io.dalang.grpc.v1.GenerateEvent;
import io.dalang.grpc.v1.GenerateRequest;
import io.dalang.grpc.v1.InferencePowerApi;
import io.dalang.grpc.v1.Started;
import io.dalang.grpc.v1.Token;
import io.dalang.grpc.v1.Usage;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.openai.ChatCompletionRequest;
import io.dalang.protocols.openai.CompletionRequest;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.actors.admission.Priority;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.runs.RunLauncher;
import java.util.ArrayList;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code dalang.v1.Inference}: the same runs as the HTTP API's completions, with the same keys,
 * validation, admission and error taxonomy. The edge only translates: protobuf in, a validated
 * request to the {@link RunLauncher}, canonical events back out as protobuf.
 */
public final class GrpcInferenceService implements InferencePowerApi {
  private final ActorSystem<?> system;
  private final Authenticator auth;
  private final RunLauncher runs;

  public GrpcInferenceService(ActorSystem<?> system, Authenticator auth, RunLauncher runs) {
    this.system = system;
    this.auth = auth;
    this.runs = runs;
  }

  @Override
  public Source<GenerateEvent, NotUsed> generate(GenerateRequest in, Metadata metadata) {
    long received = System.nanoTime();
    return Source.completionStage(start(in, metadata, received, true)).flatMapConcat(started -> started)
        .mapError(new org.apache.pekko.japi.pf.PFBuilder<Throwable, Throwable>().matchAny(GrpcErrors::of).build());
  }

  @Override
  public CompletionStage<CompleteResponse> complete(GenerateRequest in, Metadata metadata) {
    long received = System.nanoTime();
    var out = CompleteResponse.newBuilder().setModel(in.getModel());
    var text = new StringBuilder();
    return start(in, metadata, received, false)
        .thenCompose(events -> events.runWith(Sink.fold(out, (b, e) -> {
          switch (e.getEventCase()) {
            case STARTED -> b.setRunId(e.getStarted().getRunId());
            case TOKEN -> text.append(e.getToken().getText());
            case END -> b.setFinishReason(e.getEnd().getFinishReason()).setUsage(e.getEnd().getUsage());
            default -> { }
          }
          return b;
        }), system))
        .thenApply(b -> b.setText(text.toString()).build())
        .exceptionally(t -> {
          throw GrpcErrors.of(t);
        });
  }

  /** Authenticates, validates and starts the run; the stream fails with the run's typed error, if any. */
  private CompletionStage<Source<GenerateEvent, NotUsed>> start(GenerateRequest in, Metadata md, long received, boolean stream) {
    return auth.authenticate(md.getText("authorization")).thenApply(p -> {
      if (p.role().platform()) {
        throw new DalangException(ErrorCode.PERMISSION_DENIED, "platform keys (" + p.role().wireName() + ") administer Dalang; "
            + "inference needs a tenant key");
      }
      String runId = RunLauncher.newRunId();
      RequestValidation.Validated v = validate(in, runId, stream, runs.settings().defaultMaxTokens());
      long deadline = in.getDeadlineMs() < 0 || in.getDeadlineMs() > 86_400_000 ? fail("deadline_ms", "deadline_ms must be 0..86400000")
          : in.getDeadlineMs() == 0 ? 0 : System.currentTimeMillis() + in.getDeadlineMs();
      Priority priority = in.getPriority() == io.dalang.grpc.v1.Priority.PRIORITY_BATCH ? Priority.BATCH : Priority.INTERACTIVE;
      RunLauncher.StartedRun run = runs.start(p, v, received, priority, deadline);
      return events(run, runId, v.model());
    });
  }

  private static long fail(String param, String message) {
    throw new DalangException(ErrorCode.INVALID_REQUEST, message, param, 0);
  }

  private static Source<GenerateEvent, NotUsed> events(RunLauncher.StartedRun run, String runId, String model) {
    return Source.completionStage(run.first()).flatMapConcat(first -> {
      if (first instanceof GenerationEvent.Failed f) return Source.failed(GrpcErrors.of(f.error()));
      return Source.single(first).concat(run.rest()).map(e -> toProto(e, runId, model));
    });
  }

  static GenerateEvent toProto(GenerationEvent e, String runId, String model) {
    if (e instanceof GenerationEvent.Started) {
      return GenerateEvent.newBuilder().setStarted(Started.newBuilder().setRunId(runId).setModel(model)).build();
    } else if (e instanceof GenerationEvent.Token t) {
      return GenerateEvent.newBuilder().setToken(Token.newBuilder().setText(t.text())).build();
    } else if (e instanceof GenerationEvent.End end) {
      var u = end.usage();
      return GenerateEvent.newBuilder().setEnd(End.newBuilder().setFinishReason(end.finishReason() == null ? "" : end.finishReason())
          .setUsage(Usage.newBuilder().setPromptTokens(u.promptTokens()).setCompletionTokens(u.completionTokens())
              .setTotalTokens(u.promptTokens() + u.completionTokens()))).build();
    } else if (e instanceof GenerationEvent.Failed f) {
      throw GrpcErrors.of(f.error());
    }
    throw GrpcErrors.of(DalangError.of(ErrorCode.INTERNAL, "unexpected event"));
  }

  /** The same validation as the HTTP API's, through its request types. */
  static RequestValidation.Validated validate(GenerateRequest in, String runId, boolean stream, int defaultMaxTokens) {
    var f = JsonNodeFactory.instance;
    Integer maxTokens = in.hasMaxTokens() ? in.getMaxTokens() : null;
    Double temperature = in.hasTemperature() ? in.getTemperature() : null;
    Double topP = in.hasTopP() ? in.getTopP() : null;
    Long seed = in.hasSeed() ? in.getSeed() : null;
    var stop = in.getStopCount() == 0 ? null : f.arrayNode();
    if (stop != null) in.getStopList().forEach(stop::add);
    return switch (in.getInputCase()) {
      case PROMPT -> RequestValidation.completion(new CompletionRequest(in.getModel(), f.textNode(in.getPrompt()), stream, null, maxTokens,
          temperature, topP, seed, stop, null, null, null, null, null, null, null, null), runId, defaultMaxTokens);
      case CHAT -> {
        var messages = new ArrayList<ChatCompletionRequest.Message>();
        for (var m : in.getChat().getMessagesList()) messages.add(new ChatCompletionRequest.Message(m.getRole(), f.textNode(m.getContent()), null));
        yield RequestValidation.chat(new ChatCompletionRequest(in.getModel(), messages, stream, null, maxTokens, null, temperature, topP, seed,
            stop, null, null, null, null, null, null, null, null, null, null, null), runId, defaultMaxTokens);
      }
      case INPUT_NOT_SET -> throw new DalangException(ErrorCode.INVALID_REQUEST,
          "set either 'prompt' (a completion) or 'chat' (messages)", "input", 0);
    };
  }
}
