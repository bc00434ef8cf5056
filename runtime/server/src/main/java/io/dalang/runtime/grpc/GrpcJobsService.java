package io.dalang.runtime.grpc;

import io.dalang.actors.run.RunSettings;
import io.dalang.runtime.http.ClientAddress;
import io.dalang.actors.jobs.Attempt;
import io.dalang.actors.jobs.JobRequest;
import io.dalang.actors.jobs.JobView;
import io.dalang.grpc.v1.GetJobRequest;
import io.dalang.grpc.v1.Job;
import io.dalang.grpc.v1.JobAttempt;
import io.dalang.grpc.v1.JobError;
import io.dalang.grpc.v1.JobReply;
import io.dalang.grpc.v1.JobResult;
import io.dalang.grpc.v1.JobsPowerApi;
import io.dalang.grpc.v1.SubmitJobRequest;
import io.dalang.grpc.v1.Usage;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.JobJson;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.jobs.JobService;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.grpc.javadsl.Metadata;

/**
 * {@code dalang.v1.Jobs}: {@code POST/GET /v1/jobs} over gRPC, with the same tenants, validation,
 * {@code idempotency-key} semantics and error taxonomy. The edge only translates.
 */
public final class GrpcJobsService implements JobsPowerApi {
  private final Authenticator auth;
  private final JobService jobs;
  private final RunSettings settings;

  public GrpcJobsService(Authenticator auth, JobService jobs, RunSettings settings) {
    this.auth = auth;
    this.jobs = jobs;
    this.settings = settings;
  }

  @Override
  public CompletionStage<JobReply> submitJob(SubmitJobRequest in, Metadata md) {
    return tenant(md).thenCompose(p -> {
      var r = in.getRequest();
      if (r.getPriority() != io.dalang.grpc.v1.Priority.PRIORITY_UNSPECIFIED || r.hasDeadlineMs()) {
        throw new DalangException(ErrorCode.INVALID_REQUEST, "jobs run at batch priority without a start deadline: leave 'priority' and"
            + " 'deadline_ms' unset", r.hasDeadlineMs() ? "deadline_ms" : "priority", 0);
      }
      var v = GrpcInferenceService.validate(r, "pending", false, settings);
      JobService.requireServed(p, v.model());
      String hash = JobService.requestHash("grpc.jobs", Json.bytes(v));
      return jobs.submit(p, new JobRequest(v.model(), v.generation()), hash, JobService.idempotencyKey(md.getText(GrpcInferenceService.IDEMPOTENCY_KEY)));
    }).thenApply(s -> JobReply.newBuilder().setJob(job(s.job())).setReplayed(s.repeated()).build()).exceptionally(t -> {
      throw GrpcErrors.of(t);
    });
  }

  @Override
  public CompletionStage<JobReply> getJob(GetJobRequest in, Metadata md) {
    return tenant(md).thenCompose(p -> jobs.get(p, in.getJobId()))
        .thenApply(v -> JobReply.newBuilder().setJob(job(v)).build())
        .exceptionally(t -> {
          throw GrpcErrors.of(t);
        });
  }

  private CompletionStage<Principal> tenant(Metadata md) {
    return auth.authenticate(md.getText("authorization"), ClientAddress.of(md)).thenApply(p -> {
      p.requireTenantKey();
      return p;
    });
  }

  static Job job(JobView v) {
    var b = Job.newBuilder().setId(v.jobId()).setState(v.state()).setType(v.job().request().chat() ? "chat" : "completion")
        .setModel(v.job().request().model()).setCreatedAt(time(v.job().submittedAt()))
        .setIdempotencyKey(v.job().idempotencyKey() == null ? "" : v.job().idempotencyKey()).setMaxAttempts(v.attemptLimit())
        .setNextAttemptAt(time(v.nextAttemptAt())).setDeadLetteredAt(time(v.deadLetteredAt()));
    for (Attempt a : v.attempts()) b.addAttempts(attempt(a));
    var r = v.result();
    if (r != null) {
      b.setResult(JobResult.newBuilder().setRunId(r.runId()).setText(r.text()).setFinishReason(r.finishReason() == null ? "" : r.finishReason())
          .setUsage(Usage.newBuilder().setPromptTokens(r.promptTokens()).setCompletionTokens(r.completionTokens())
              .setTotalTokens(r.promptTokens() + r.completionTokens()))
          .setCompletedAt(time(r.completedAt())));
    }
    DalangError e = JobView.DEAD_LETTERED.equals(v.state()) ? JobJson.error(v.lastAttempt()) : null;
    if (e != null) b.setError(error(e));
    return b.build();
  }

  private static JobAttempt attempt(Attempt a) {
    var b = JobAttempt.newBuilder().setAttempt(a.attempt()).setRunId(a.runId()).setStartedAt(time(a.startedAt())).setEndedAt(time(a.endedAt()))
        .setEngine(a.engine() == null ? "" : a.engine()).setSlot(a.slotId() == null ? "" : a.slotId());
    DalangError e = JobJson.error(a);
    if (e != null) b.setError(error(e));
    return b.build();
  }

  private static JobError error(DalangError e) {
    return JobError.newBuilder().setCode(e.code().code()).setMessage(e.message() == null ? "" : e.message()).setRetriable(e.code().retriable()).build();
  }

  private static String time(Instant t) {
    return t == null ? "" : t.toString();
  }
}
