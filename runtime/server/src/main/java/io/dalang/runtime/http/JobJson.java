package io.dalang.runtime.http;

import io.dalang.actors.jobs.Attempt;
import io.dalang.actors.jobs.JobResult;
import io.dalang.actors.jobs.JobView;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.Usage;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** The JSON bodies of jobs: {@code POST/GET /v1/jobs} and the admin API's dead-letter queue. */
public final class JobJson {
  private JobJson() {}

  /** What {@code POST /v1/jobs} answers: the job's id and state. */
  public static Map<String, Object> summary(JobView v) {
    var m = new LinkedHashMap<String, Object>();
    m.put("id", v.jobId());
    m.put("object", "job");
    m.put("type", v.job().request().chat() ? "chat" : "completion");
    m.put("model", v.job().request().model());
    m.put("state", v.state());
    m.put("created_at", time(v.job().submittedAt()));
    return m;
  }

  /**
   * The whole job: attempts with their errors, engines and slots, the result as OpenAI's object once
   * succeeded, the last error once dead-lettered. {@code admin} adds the tenant and submitting key.
   */
  public static Map<String, Object> full(JobView v, boolean admin) {
    var m = summary(v);
    if (admin) {
      m.put("tenant", v.job().tenantId());
      m.put("key_id", v.job().keyId());
    }
    m.put("idempotency_key", v.job().idempotencyKey());
    m.put("max_attempts", v.attemptLimit());
    m.put("attempts", v.attempts().stream().map(JobJson::attempt).toList());
    m.put("next_attempt_at", time(v.nextAttemptAt()));
    m.put("dead_lettered_at", time(v.deadLetteredAt()));
    m.put("body_dropped_at", time(v.job().request().bodyDroppedAt()));
    m.put("replays", v.replays().stream().map(r -> Map.of("replay_id", r.replayId(), "actor", r.actor(), "at", time(r.at()))).toList());
    m.put("result", v.result() == null ? null : openAi(v, v.result()));
    DalangError e = JobView.DEAD_LETTERED.equals(v.state()) ? error(v.lastAttempt()) : null;
    m.put("error", e == null ? null : Map.of("code", e.code().code(), "type", e.code().type(), "message", e.message()));
    return m;
  }

  private static Map<String, Object> attempt(Attempt a) {
    var m = new LinkedHashMap<String, Object>();
    m.put("attempt", a.attempt());
    m.put("run_id", a.runId());
    m.put("started_at", time(a.startedAt()));
    m.put("ended_at", time(a.endedAt()));
    m.put("error", a.errorCode() == null ? null : Map.of("code", a.errorCode(), "message", a.errorMessage()));
    m.put("engine", a.engine());
    m.put("slot", a.slotId());
    return m;
  }

  /** The error that ended {@code a}, as a typed error; null if it did not fail. */
  public static DalangError error(Attempt a) {
    if (a == null || a.errorCode() == null) return null;
    ErrorCode code;
    try {
      code = ErrorCode.valueOf(a.errorCode().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException unknown) {
      code = ErrorCode.INTERNAL;
    }
    return DalangError.of(code, a.errorMessage());
  }

  /** A job's result as the OpenAI object a synchronous request would have answered. */
  static Object openAi(JobView v, JobResult r) {
    return rendering(v, r).whole(r.text(), end(r));
  }

  static OpenAiRendering rendering(JobView v, JobResult r) {
    return new OpenAiRendering(v.job().request().chat(), r.runId(), v.job().request().model(), r.completedAt().getEpochSecond());
  }

  public static GenerationEvent.End end(JobResult r) {
    return new GenerationEvent.End(r.runId(), r.finishReason(), new Usage(r.promptTokens(), r.completionTokens()), EngineTimings.NONE);
  }

  private static String time(Instant t) {
    return t == null ? null : t.toString();
  }
}
