package io.dalang.runtime.grpc;

import io.dalang.actors.run.RunSettings;
import io.dalang.runtime.http.ClientAddress;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.dalang.grpc.v1.CompleteResponse;
import io.dalang.grpc.v1.EmbedRequest;
import io.dalang.grpc.v1.EmbedResponse;
import io.dalang.grpc.v1.Embedding;
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
import io.dalang.protocols.openai.EmbeddingRequest;
import io.dalang.protocols.openai.EmbeddingValidation;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.actors.admission.Priority;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.runs.RunLauncher;
import io.dalang.runtime.runs.StartDeadline;
import io.dalang.actors.jobs.JobRequest;
import io.dalang.actors.jobs.JobView;
import io.dalang.runtime.jobs.JobService;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * {@code dalang.v1.Inference}: the same runs as the HTTP API's completions and embeddings, with the same keys,
 * validation, admission and error taxonomy. The edge only translates: protobuf in, a validated
 * request to the {@link RunLauncher}, canonical events back out as protobuf.
 */
public final class GrpcInferenceService implements InferencePowerApi {
  private final ActorSystem<?> system;
  private final Authenticator auth;
  private final RunLauncher runs;
  private final JobService jobs;

  /** @param jobs runs requests sent with {@code idempotency-key} metadata as durable jobs */
  public GrpcInferenceService(ActorSystem<?> system, Authenticator auth, RunLauncher runs, JobService jobs) {
    this.system = system;
    this.auth = auth;
    this.runs = runs;
    this.jobs = jobs;
  }

  @Override
  public Source<GenerateEvent, NotUsed> generate(GenerateRequest in, Metadata metadata) {
    long received = System.nanoTime();
    var events = metadata.getText(IDEMPOTENCY_KEY).isPresent()
        ? Source.completionStage(keyedStream(in, metadata)).flatMapConcat(s -> s)
        : Source.completionStage(start(in, metadata, received, true)).flatMapConcat(started -> started);
    return events.mapError(new org.apache.pekko.japi.pf.PFBuilder<Throwable, Throwable>().matchAny(GrpcErrors::of).build());
  }

  @Override
  public CompletionStage<CompleteResponse> complete(GenerateRequest in, Metadata metadata) {
    if (metadata.getText(IDEMPOTENCY_KEY).isPresent()) {
      return keyed(in, metadata, false).thenCompose(k -> jobs.runToEnd(k.principal(), k.request(), k.hash(), k.key()))
          .thenApply(s -> succeeded(s.job()))
          .thenApply(v -> {
            var r = v.result();
            return CompleteResponse.newBuilder().setRunId(r.runId()).setModel(v.job().request().model()).setText(r.text())
                .setFinishReason(r.finishReason() == null ? "" : r.finishReason()).setUsage(usage(r.promptTokens(), r.completionTokens())).build();
          }).exceptionally(t -> {
            throw GrpcErrors.of(t);
          });
    }
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

  /** The run of {@code POST /v1/embeddings}, through its request type and validation; answered whole. */
  @Override
  public CompletionStage<EmbedResponse> embed(EmbedRequest in, Metadata metadata) {
    long received = System.nanoTime();
    return auth.authenticate(metadata.getText("authorization"), ClientAddress.of(metadata)).thenCompose(p -> {
      p.requireTenantKey();
      var input = JsonNodeFactory.instance.arrayNode();
      in.getInputList().forEach(input::add);
      var v = EmbeddingValidation.embeddings(new EmbeddingRequest(in.getModel(), input, null, in.hasDimensions() ? in.getDimensions() : null,
          null), RunLauncher.newRunId(), runs.settings().limits());
      long deadline = StartDeadline.of(in.hasDeadlineMs() ? OptionalLong.of(in.getDeadlineMs()) : OptionalLong.empty(), "'deadline_ms'",
          "deadline_ms");
      Priority priority = in.getPriority() == io.dalang.grpc.v1.Priority.PRIORITY_BATCH ? Priority.BATCH : Priority.INTERACTIVE;
      var run = runs.start(p, new RequestValidation.Validated(v.model(), false, v.generation()), received, priority, deadline);
      return run.first().thenCompose(first -> {
        if (first instanceof GenerationEvent.Failed f) throw GrpcErrors.of(f.error());
        return Source.single(first).concat(run.rest()).runWith(Sink.seq(), system);
      }).thenApply(events -> embedded(v.generation().runId(), v.model(), events));
    }).exceptionally(t -> {
      throw GrpcErrors.of(t);
    });
  }

  private static EmbedResponse embedded(String runId, String model, List<GenerationEvent> events) {
    var out = EmbedResponse.newBuilder().setRunId(runId).setModel(model);
    for (GenerationEvent e : events) {
      if (e instanceof GenerationEvent.Failed f) throw GrpcErrors.of(f.error());
      if (e instanceof GenerationEvent.Embedded em) {
        for (int i = 0; i < em.vectors().size(); i++) {
          var b = Embedding.newBuilder().setIndex(i);
          for (float x : em.vectors().get(i)) b.addValues(x);
          out.addData(b);
        }
      }
      if (e instanceof GenerationEvent.End end) return out.setUsage(usage(end.usage().promptTokens(), 0)).build();
    }
    throw GrpcErrors.of(DalangError.of(ErrorCode.INTERNAL, "the run ended without its vectors"));
  }

  /** Metadata that makes a request a durable job with the same semantics as HTTP's {@code Idempotency-Key}. */
  static final String IDEMPOTENCY_KEY = "idempotency-key";

  /** A request with an idempotency key, authenticated and validated, ready to run as a job. */
  private record Keyed(io.dalang.runtime.auth.Principal principal, JobRequest request, String hash, String key) {}

  /**
   * A request with an idempotency key runs as a job: the same key and request give the same job's result,
   * another request under the key fails with {@code idempotency_conflict}.
   */
  private CompletionStage<Keyed> keyed(GenerateRequest in, Metadata md, boolean stream) {
    return auth.authenticate(md.getText("authorization"), ClientAddress.of(md)).thenApply(p -> {
      p.requireTenantKey();
      var v = validate(in, "pending", stream, runs.settings());
      JobService.requireServed(p, v.model());
      String hash = JobService.requestHash(stream ? "grpc.generate" : "grpc.complete", io.dalang.runtime.http.Json.bytes(v));
      return new Keyed(p, new JobRequest(v.model(), v.generation()), hash, md.getText(IDEMPOTENCY_KEY).orElseThrow());
    });
  }

  /**
   * A streamed keyed request, first or repeated: the running job's live events from the start (replayed,
   * then live; the job goes on if the call is cancelled), or a finished job's stored result.
   */
  private CompletionStage<Source<GenerateEvent, NotUsed>> keyedStream(GenerateRequest in, Metadata md) {
    return keyed(in, md, true)
        .thenCompose(k -> jobs.submit(k.principal(), k.request(), k.hash(), JobService.idempotencyKey(java.util.Optional.of(k.key()))))
        .thenApply(s -> {
          JobView v = s.job();
          if (v.finished()) return Source.from(replayed(succeeded(v)));
          return events(jobs.follow(v.jobId()), null, v.job().request().model());
        });
  }

  /** A finished job with its result; a dead-lettered job's last error is thrown. */
  private static JobView succeeded(JobView v) {
    if (v.result() != null) return v;
    DalangError e = io.dalang.runtime.http.JobJson.error(v.lastAttempt());
    throw (e != null ? e : DalangError.of(ErrorCode.INTERNAL, "job " + v.jobId() + " ended without a result")).toException();
  }

  /** A finished job's result as the events a live generation would have sent. */
  private static List<GenerateEvent> replayed(JobView v) {
    var r = v.result();
    String model = v.job().request().model();
    var events = new ArrayList<GenerateEvent>();
    events.add(GenerateEvent.newBuilder().setStarted(Started.newBuilder().setRunId(r.runId()).setModel(model)).build());
    if (!r.text().isEmpty()) events.add(GenerateEvent.newBuilder().setToken(Token.newBuilder().setText(r.text())).build());
    events.add(GenerateEvent.newBuilder().setEnd(End.newBuilder().setFinishReason(r.finishReason() == null ? "" : r.finishReason())
        .setUsage(usage(r.promptTokens(), r.completionTokens()))).build());
    return events;
  }

  private static Usage usage(int prompt, int completion) {
    return Usage.newBuilder().setPromptTokens(prompt).setCompletionTokens(completion).setTotalTokens(prompt + completion).build();
  }

  /** Authenticates, validates and starts the run; the stream fails with the run's typed error, if any. */
  private CompletionStage<Source<GenerateEvent, NotUsed>> start(GenerateRequest in, Metadata md, long received, boolean stream) {
    return auth.authenticate(md.getText("authorization"), ClientAddress.of(md)).thenApply(p -> {
      p.requireTenantKey();
      String runId = RunLauncher.newRunId();
      RequestValidation.Validated v = validate(in, runId, stream, runs.settings());
      long deadline = StartDeadline.of(in.hasDeadlineMs() ? OptionalLong.of(in.getDeadlineMs()) : OptionalLong.empty(), "'deadline_ms'",
          "deadline_ms");
      Priority priority = in.getPriority() == io.dalang.grpc.v1.Priority.PRIORITY_BATCH ? Priority.BATCH : Priority.INTERACTIVE;
      RunLauncher.StartedRun run = runs.start(p, v, received, priority, deadline);
      return events(run, runId, v.model());
    });
  }

  /** @param runId the run id to report in {@code started}; null: the one its first event carries */
  private static Source<GenerateEvent, NotUsed> events(RunLauncher.StartedRun run, String runId, String model) {
    return Source.completionStage(run.first()).flatMapConcat(first -> {
      if (first instanceof GenerationEvent.Failed f) return Source.failed(GrpcErrors.of(f.error()));
      String id = runId != null ? runId : first.runId();
      return Source.single(first).concat(run.rest()).map(e -> toProto(e, id, model));
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
          .setUsage(usage(u.promptTokens(), u.completionTokens()))).build();
    } else if (e instanceof GenerationEvent.Failed f) {
      throw GrpcErrors.of(f.error());
    }
    throw GrpcErrors.of(DalangError.of(ErrorCode.INTERNAL, "unexpected event"));
  }

  /** The same validation as the HTTP API's, through its request types. */
  static RequestValidation.Validated validate(GenerateRequest in, String runId, boolean stream, RunSettings settings) {
    var f = JsonNodeFactory.instance;
    Integer maxTokens = in.hasMaxTokens() ? in.getMaxTokens() : null;
    Double temperature = in.hasTemperature() ? in.getTemperature() : null;
    Double topP = in.hasTopP() ? in.getTopP() : null;
    Long seed = in.hasSeed() ? in.getSeed() : null;
    var stop = in.getStopCount() == 0 ? null : f.arrayNode();
    if (stop != null) in.getStopList().forEach(stop::add);
    return switch (in.getInputCase()) {
      case PROMPT -> RequestValidation.completion(new CompletionRequest(in.getModel(), f.textNode(in.getPrompt()), stream, null, maxTokens,
          temperature, topP, seed, stop, null, null, null, null, null, null, null, null, null), runId, settings.defaultMaxTokens(), settings.limits());
      case CHAT -> {
        var messages = new ArrayList<ChatCompletionRequest.Message>();
        for (var m : in.getChat().getMessagesList()) messages.add(new ChatCompletionRequest.Message(m.getRole(), f.textNode(m.getContent()), null, null, null));
        yield RequestValidation.chat(new ChatCompletionRequest(in.getModel(), messages, stream, null, maxTokens, null, temperature, topP, seed,
            stop, null, null, null, null, null, null, null, null, null, null, null, null, null), runId, settings.defaultMaxTokens(), settings.limits());
      }
      case INPUT_NOT_SET -> throw new DalangException(ErrorCode.INVALID_REQUEST,
          "set either 'prompt' (a completion) or 'chat' (messages)", "input", 0);
    };
  }
}
