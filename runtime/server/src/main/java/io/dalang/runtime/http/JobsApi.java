package io.dalang.runtime.http;

import io.dalang.actors.run.RunSettings;
import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.actors.jobs.JobRequest;
import io.dalang.actors.jobs.JobView;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.jobs.JobService;
import io.dalang.runtime.runs.RunLauncher;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Durable jobs at the HTTP edge: {@code POST /v1/jobs} (answered once the job is persisted),
 * {@code GET /v1/jobs/{id}} (own tenant only), and chat or completion requests sent with an
 * {@code Idempotency-Key}, which run as jobs and are answered with the job's result.
 *
 * <p>A job body is an OpenAI chat body (with {@code messages}) or completion body (with {@code prompt}),
 * or {@code {"type": "chat"|"completion", "request": {...}}}.
 */
public final class JobsApi {
  static final String REPLAYED_HEADER = "Idempotent-Replayed";
  /** The keyed job's state when a streaming request was answered: {@code queued}/{@code running} (live) or finished (stored). */
  static final String JOB_STATE_HEADER = "x-dalang-job-state";
  private static final Set<String> ENVELOPE = Set.of("type", "request");

  private final JobService jobs;
  private final RunSettings settings;

  public JobsApi(JobService jobs, RunSettings settings) {
    this.jobs = jobs;
    this.settings = settings;
  }

  /** {@code POST /v1/jobs}: 202 with the new job, or 200 with the job an idempotency key named already. */
  CompletionStage<HttpResponse> submit(Principal p, byte[] body, Optional<String> keyHeader) {
    p.requireTenantKey();
    Optional<String> key = JobService.idempotencyKey(keyHeader);
    JsonNode n = Json.parse(body, JsonNode.class);
    if (!n.isObject()) throw invalid("the request body must be a JSON object", null);
    boolean chat;
    byte[] request;
    if (n.has("request")) {
      for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
        String f = it.next();
        if (!ENVELOPE.contains(f)) throw invalid("unknown field '" + f + "' beside 'request'; known fields: " + ENVELOPE, f);
      }
      String type = n.path("type").asText("");
      if (!type.equals("chat") && !type.equals("completion")) throw invalid("'type' must be 'chat' or 'completion'", "type");
      if (!n.get("request").isObject()) throw invalid("'request' must be a JSON object", "request");
      chat = type.equals("chat");
      request = Json.bytes(n.get("request"));
    } else if (n.has("messages") || n.has("prompt")) {
      chat = n.has("messages");
      request = body;
    } else {
      throw invalid("a job is a chat body (with 'messages'), a completion body (with 'prompt'), or {\"type\", \"request\"}", null);
    }
    var v = accepted(p, request, chat);
    if (v.stream()) throw invalid("jobs are not streamed: leave 'stream' out and read the result from GET /v1/jobs/{id}", "stream");
    return jobs.submit(p, new JobRequest(v.model(), v.generation()), JobService.requestHash("jobs", body), key).thenApply(s ->
        repeated(HttpApi.json(s.repeated() ? StatusCodes.OK : StatusCodes.ACCEPTED, JobJson.summary(s.job()))
            .addHeader(RawHeader.create("Location", "/v1/jobs/" + s.job().jobId())), s.repeated()));
  }

  /** {@code GET /v1/jobs/{id}}. */
  CompletionStage<HttpResponse> get(Principal p, String jobId) {
    return jobs.get(p, jobId).thenApply(v -> HttpApi.json(StatusCodes.OK, JobJson.full(v, false)));
  }

  /**
   * A chat or completion request with an {@code Idempotency-Key}: runs as a job (retried like one, as long
   * as none of its tokens reached a client). A non-streaming request is answered with the job's result once
   * it is finished; a repeat answers the same stored result, or waits for it. A streaming request, first or
   * repeated, gets the running job's live output from its start (replayed, then live), or the stored
   * result as one SSE stream when the job is finished. {@code x-dalang-job-state} says which.
   */
  CompletionStage<HttpResponse> generate(Principal p, byte[] body, boolean chat, String keyHeader) {
    p.requireTenantKey();
    var v = accepted(p, body, chat);
    var request = new JobRequest(v.model(), v.generation());
    String hash = JobService.requestHash(chat ? "chat" : "completion", body);
    if (!v.stream()) {
      return jobs.runToEnd(p, request, hash, keyHeader).thenApply(s -> repeated(answer(s.job(), false), s.repeated()));
    }
    return jobs.submit(p, request, hash, JobService.idempotencyKey(Optional.of(keyHeader))).thenCompose(s -> {
      JobView job = s.job();
      if (job.finished()) return CompletableFuture.completedFuture(repeated(answer(job, true), s.repeated()));
      var jobHeaders = List.<HttpHeader>of(RawHeader.create("x-dalang-job-id", job.jobId()), RawHeader.create(JOB_STATE_HEADER, job.state()));
      RunLauncher.StartedRun run = jobs.follow(job.jobId());
      return run.first().thenApply(first -> {
        HttpResponse r = first instanceof GenerationEvent.Failed f ? ErrorMapper.response(f.error())
            : HttpApi.sse(Source.single(first).concat(run.rest()), new OpenAiRendering(chat, first.runId(), v.model()))
                .addHeader(RawHeader.create("x-dalang-run-id", first.runId()));
        return repeated(r.addHeaders(jobHeaders), s.repeated());
      });
    });
  }

  /** The request validated, for a model the tenant is served: a job is only accepted if it could run. */
  private RequestValidation.Validated accepted(Principal p, byte[] request, boolean chat) {
    var v = HttpApi.validate(request, chat, "pending", settings);
    JobService.requireServed(p, v.model());
    for (String ext : v.generation().options().extensions()) {
      // A job keeps its answer's text (JSON from a response_format included); tool calls, logprobs and
      // further choices it would drop, so they are refused rather than lost.
      if (!ext.equals(GenerationOptions.GRAMMAR)) {
        String param = GenerationOptions.parameterOf(ext);
        throw new DalangException(ErrorCode.UNSUPPORTED_PARAMETER, "'" + param + "' is not supported by durable jobs (and requests with an "
            + "Idempotency-Key), which keep only the answer's text; send it without the job", param, 0);
      }
    }
    return v;
  }

  private static HttpResponse answer(JobView v, boolean stream) {
    var jobHeader = RawHeader.create("x-dalang-job-id", v.jobId());
    var r = v.result();
    if (r == null) {
      DalangError e = JobJson.error(v.lastAttempt());
      return ErrorMapper.response(e != null ? e : DalangError.of(ErrorCode.INTERNAL, "job " + v.jobId() + " ended without a result"))
          .addHeader(jobHeader);
    }
    var rendering = JobJson.rendering(v, r);
    HttpResponse out;
    if (stream) {
      var frames = new ArrayList<ByteString>();
      frames.addAll(rendering.sse(new GenerationEvent.Started(r.runId(), "", "", 0)));
      if (!r.text().isEmpty()) frames.addAll(rendering.sse(new GenerationEvent.Token(r.runId(), r.text())));
      frames.addAll(rendering.sse(JobJson.end(r)));
      out = HttpResponse.create().withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(),
          frames.stream().reduce(ByteString.emptyByteString(), ByteString::concat)));
    } else {
      out = HttpApi.json(StatusCodes.OK, rendering.whole(r.text(), JobJson.end(r)));
    }
    return out.addHeader(jobHeader).addHeader(RawHeader.create("x-dalang-run-id", r.runId()))
        .addHeader(RawHeader.create(JOB_STATE_HEADER, v.state()));
  }

  private static HttpResponse repeated(HttpResponse r, boolean repeated) {
    return repeated ? r.addHeader(RawHeader.create(REPLAYED_HEADER, "true")) : r;
  }

  private static DalangException invalid(String message, String param) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message, param, 0);
  }
}
