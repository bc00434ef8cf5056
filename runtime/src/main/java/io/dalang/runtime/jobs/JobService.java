package io.dalang.runtime.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dalang.actors.jobs.DeadLetterQueue;
import io.dalang.actors.jobs.IdempotencyEntity;
import io.dalang.actors.jobs.Job;
import io.dalang.actors.jobs.JobCommand;
import io.dalang.actors.jobs.JobEntity;
import io.dalang.actors.jobs.JobRequest;
import io.dalang.actors.jobs.JobSettings;
import io.dalang.actors.jobs.JobView;
import io.dalang.engine.Digests;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.runs.RunLauncher;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.pattern.StatusReply;

/**
 * The edges' way to durable jobs: submit one (under an {@code Idempotency-Key} or not), read it, wait
 * for its result, list the dead-letter queue and replay from it. Failures are typed for the error mapper.
 */
public final class JobService {
  /** Job ids as this service makes them; anything else names no job (and starts no entity). */
  static final Pattern JOB_ID = Pattern.compile("job_[a-z0-9]{1,64}");
  static final int MAX_KEY_LENGTH = 255;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;
  private final JobSettings settings;
  private final DeadLetterQueue deadLetters;

  public JobService(ActorSystem<?> system, Duration timeout, JobSettings settings) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
    this.settings = settings;
    this.deadLetters = new DeadLetterQueue(system, timeout);
  }

  /** @param repeated true when the idempotency key named this job already (nothing new was created) */
  public record Submitted(JobView job, boolean repeated) {}

  /**
   * Submits {@code request} for {@code p}; completes once the job is persisted. With an idempotency key,
   * the same key and request name the same job (created if it is not yet), another request under the
   * key is {@code idempotency_conflict}.
   *
   * @param requestHash {@link #requestHash} of the request as received
   */
  public CompletionStage<Submitted> submit(Principal p, JobRequest request, String requestHash, Optional<String> idempotencyKey) {
    String proposed = "job_" + UUID.randomUUID().toString().replace("-", "");
    CompletionStage<IdempotencyEntity.Claim> claim = idempotencyKey.isEmpty()
        ? CompletableFuture.completedFuture(new IdempotencyEntity.Claim(proposed, true, null))
        : refused(sharding.entityRefFor(IdempotencyEntity.ENTITY_KEY, IdempotencyEntity.entityId(p.tenantId(), idempotencyKey.get()))
            .<IdempotencyEntity.Claim>askWithStatus(to -> new IdempotencyEntity.ClaimKey(p.tenantId(), requestHash, proposed, settings.idempotencyTtl(), to), timeout),
            ErrorCode.IDEMPOTENCY_CONFLICT);
    return claim.thenCompose(c -> {
      var job = new Job(c.jobId(), p.tenantId(), p.keyId(), p.role().wireName(), request, idempotencyKey.orElse(null), requestHash,
          Instant.now());
      return refused(job(c.jobId()).<JobView>askWithStatus(to -> new JobCommand.SubmitJob(job, to), timeout), ErrorCode.IDEMPOTENCY_CONFLICT)
          .thenApply(v -> new Submitted(v, !c.fresh()));
    });
  }

  /**
   * A synchronous request with an idempotency key, as a job: submitted (or found), then waited for.
   * Completes with the finished job and whether the key named it already.
   */
  public CompletionStage<Submitted> runToEnd(Principal p, JobRequest request, String requestHash, String idempotencyKey) {
    return submit(p, request, requestHash, idempotencyKey(Optional.of(idempotencyKey)))
        .thenCompose(s -> awaitFinished(s.job().jobId()).thenApply(done -> new Submitted(done, s.repeated())));
  }

  /**
   * The events of job {@code jobId} for one streaming client, from the start: the running attempt's
   * output (replayed, then live), or the stored result once the job is finished. The job keeps running
   * when the client stops reading; another client with the same key attaches the same way.
   */
  public RunLauncher.StartedRun follow(String jobId) {
    // Room for a whole replay plus Started, the terminal event and a little slack for a slow reader.
    return JobStreamFollower.start(system, jobId, job(jobId), settings.syncWaitTimeout(), settings.maxReplayTokens() + 64);
  }

  /** Jobs are accepted only for a model the tenant is served, so that they could run. */
  public static void requireServed(Principal p, String model) {
    if (!p.models().containsKey(model)) {
      throw new DalangException(ErrorCode.MODEL_NOT_FOUND, "model '" + model + "' does not exist or is not served to this tenant");
    }
  }

  /** The job {@code jobId} if it is {@code p}'s tenant's; {@code not_found} for any other job and for no job. */
  public CompletionStage<JobView> get(Principal p, String jobId) {
    return view(jobId).thenApply(v -> {
      if (!v.visibleTo(p.tenantId())) throw notFound(jobId);
      return v;
    });
  }

  /** The job {@code jobId} whoever's it is (for the admin API, which checks access itself); {@code not_found} for none. */
  public CompletionStage<JobView> view(String jobId) {
    if (!JOB_ID.matcher(jobId).matches()) return CompletableFuture.failedFuture(notFound(jobId));
    return job(jobId).<JobView>ask(JobCommand.GetJob::new, timeout).thenApply(v -> {
      if (!v.exists()) throw notFound(jobId);
      return v;
    });
  }

  /** Completes with the job once it has succeeded or is dead-lettered, within {@code sync-wait-timeout}. */
  public CompletionStage<JobView> awaitFinished(String jobId) {
    return job(jobId).<JobView>ask(JobCommand.AwaitJob::new, settings.syncWaitTimeout()).exceptionally(err -> {
      throw new DalangException(ErrorCode.TIMEOUT, "job " + jobId + " did not finish within " + settings.syncWaitTimeout().toSeconds()
          + " s; it goes on: send the request again with the same Idempotency-Key, or GET /v1/jobs/" + jobId);
    });
  }

  /** The dead-lettered jobs of {@code tenantId}, or of all tenants for null. */
  public CompletionStage<List<JobView>> deadLettered(String tenantId) {
    return deadLetters.list(tenantId);
  }

  /** Replays a dead-lettered job (a no-op, said so, for any other state or a replay id applied already). */
  public CompletionStage<JobCommand.ReplayResult> replay(String jobId, String replayId, String actor) {
    return refused(job(jobId).<JobCommand.ReplayResult>askWithStatus(to -> new JobCommand.ReplayJob(replayId, actor, to), timeout), ErrorCode.NOT_FOUND);
  }

  private EntityRef<JobCommand> job(String jobId) {
    return sharding.entityRefFor(JobEntity.ENTITY_KEY, jobId);
  }

  private static DalangException notFound(String jobId) {
    return new DalangException(ErrorCode.NOT_FOUND, "no job " + jobId + " for this tenant");
  }

  /** An entity's refusal ({@code StatusReply.error}) as a typed error with {@code code}; other failures as they are. */
  private static <T> CompletionStage<T> refused(CompletionStage<T> reply, ErrorCode code) {
    return reply.exceptionally(err -> {
      Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
      if (c instanceof StatusReply.ErrorMessage m) throw new DalangException(code, m.getMessage());
      throw c instanceof RuntimeException r ? r : new CompletionException(c);
    });
  }

  /** A client's {@code Idempotency-Key}: 1 to 255 visible ASCII characters. */
  public static Optional<String> idempotencyKey(Optional<String> header) {
    if (header.isEmpty()) return header;
    String k = header.get().strip();
    if (k.isEmpty() || k.length() > MAX_KEY_LENGTH || !k.chars().allMatch(ch -> ch >= 0x20 && ch < 0x7f)) {
      throw new DalangException(ErrorCode.INVALID_REQUEST, "header 'Idempotency-Key' must be 1 to " + MAX_KEY_LENGTH
          + " visible ASCII characters", "Idempotency-Key", 0);
    }
    return Optional.of(k);
  }

  /**
   * What a request hashes to for idempotency: SHA-256 of the endpoint's {@code scope} and the body as
   * canonical JSON (keys sorted, no whitespace), so formatting does not make a repeat a new request.
   */
  public static String requestHash(String scope, byte[] body) {
    try {
      JsonNode tree = Json.MAPPER.readTree(body);
      Object plain = Json.MAPPER.convertValue(tree, Object.class);
      byte[] canonical = Json.MAPPER.writer().with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS).writeValueAsBytes(plain);
      return Digests.sha256(scope + "\n" + new String(canonical, java.nio.charset.StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new DalangException(ErrorCode.MALFORMED_JSON, "the request body is not valid JSON");
    }
  }
}
