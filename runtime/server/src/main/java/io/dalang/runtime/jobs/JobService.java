package io.dalang.runtime.jobs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dalang.actors.jobs.DeadLetterQueue;
import io.dalang.actors.jobs.IdempotencyEntity;
import io.dalang.actors.jobs.Job;
import io.dalang.actors.jobs.JobCommand;
import io.dalang.actors.jobs.JobEntity;
import io.dalang.actors.jobs.JobRequest;
import io.dalang.actors.jobs.JobLimits;
import io.dalang.actors.jobs.JobSettings;
import io.dalang.actors.jobs.JobState;
import io.dalang.actors.jobs.JobView;
import io.dalang.actors.jobs.TenantJobsEntity;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.run.RunActor;
import io.dalang.engine.Digests;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import io.dalang.protocols.openai.RequestLimits;
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
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
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
  private final ActorRef<PlacementActor.Command> placement;
  private final RequestLimits limits;

  /**
   * @param placement asked for the fleet's slots, for the context check at submit
   * @param limits the input caps, for the prompt's token estimate of that check
   */
  public JobService(ActorSystem<?> system, Duration timeout, JobSettings settings, ActorRef<PlacementActor.Command> placement,
      RequestLimits limits) {
    this.system = system;
    this.placement = placement;
    this.limits = limits;
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
    if (idempotencyKey.isEmpty()) {
      return fitsContext(p, request).thenCompose(ok -> admit(p, proposed, request))
          .thenCompose(ok -> create(p, proposed, request, requestHash, null, true));
    }
    String key = idempotencyKey.get();
    var idem = sharding.entityRefFor(IdempotencyEntity.ENTITY_KEY, IdempotencyEntity.entityId(p.tenantId(), key));
    // A repeat of an accepted job is answered before any limit is checked, so it is never counted twice;
    // a new job is admitted before its key is claimed, so a refused one leaves nothing behind.
    return idem.<IdempotencyEntity.KeyView>ask(IdempotencyEntity.PeekKey::new, timeout).thenCompose(k -> {
      if (k.jobId() != null && !k.requestHash().equals(requestHash)) {
        throw new DalangException(ErrorCode.IDEMPOTENCY_CONFLICT, "this Idempotency-Key was used with a different request (job "
            + k.jobId() + "); send a new key for a new request, or the same request to get its result");
      }
      CompletionStage<JobView> existing = k.jobId() == null ? CompletableFuture.completedFuture(JobView.of(proposed, new JobState.Unsubmitted()))
          : job(k.jobId()).ask(JobCommand.GetJob::new, timeout);
      return existing.thenCompose(v -> {
        if (v.exists()) return CompletableFuture.completedFuture(new Submitted(v, true));
        String jobId = k.jobId() != null ? k.jobId() : proposed;
        return fitsContext(p, request).thenCompose(ok -> admit(p, jobId, request))
            .thenCompose(ok -> refused(idem.<IdempotencyEntity.Claim>askWithStatus(to -> new IdempotencyEntity.ClaimKey(p.tenantId(),
                requestHash, jobId, settings.idempotencyTtl(), to), timeout), ErrorCode.IDEMPOTENCY_CONFLICT)
                .whenComplete((c, err) -> {
                  if (err != null || !c.jobId().equals(jobId)) release(p, jobId); // another submission won the key
                }))
            .thenCompose(c -> create(p, c.jobId(), request, requestHash, key, c.fresh()));
      });
    });
  }

  /** Persists the job (or finds it, for a repeat); {@code fresh}: whether this submission created it. */
  private CompletionStage<Submitted> create(Principal p, String jobId, JobRequest request, String requestHash, String key, boolean fresh) {
    var job = new Job(jobId, p.tenantId(), p.keyId(), p.role().wireName(), request, key, requestHash, Instant.now());
    return refused(job(jobId).<JobView>askWithStatus(to -> new JobCommand.SubmitJob(job, to), timeout), ErrorCode.IDEMPOTENCY_CONFLICT)
        .whenComplete((v, err) -> {
          if (err != null && fresh) release(p, jobId); // only this submission's own admission; a repeat's job stays counted
        })
        .thenApply(v -> new Submitted(v, !fresh));
  }

  /** Counts the job against the tenant's job limits, or fails with the limit it would break (nothing persisted then). */
  private CompletionStage<Void> admit(Principal p, String jobId, JobRequest request) {
    JobLimits limits = p.quotas() == null ? settings.limits() : p.quotas().jobLimits(settings.limits());
    return tenantJobs(p).<TenantJobsEntity.Admission>ask(to -> new TenantJobsEntity.Admit(jobId, request.storedBytes(), limits, to), timeout)
        .thenAccept(a -> {
          if (!a.granted()) throw a.error().toException();
        });
  }

  private void release(Principal p, String jobId) {
    tenantJobs(p).tell(new TenantJobsEntity.Release(jobId));
  }

  private EntityRef<TenantJobsEntity.Command> tenantJobs(Principal p) {
    return sharding.entityRefFor(TenantJobsEntity.ENTITY_KEY, p.tenantId());
  }

  /**
   * The synchronous path's context check, at submit: a job whose prompt (at least its bytes /
   * {@code dalang.limits.bytes-per-token} tokens) plus {@code max_tokens} fits no slot of its model in the
   * tenant's pools is {@code context_length_exceeded} now, not a dead letter later. A model with no slot
   * registered yet passes: the attempt's placement checks again.
   */
  private CompletionStage<Void> fitsContext(Principal p, JobRequest request) {
    return AskPattern.<PlacementActor.Command, PlacementActor.Fleet>ask(placement, PlacementActor.GetFleet::new, timeout, system.scheduler())
        .thenAccept(f -> {
          var slots = f.slots().stream().filter(s -> p.pools().contains(s.poolId()) && s.modelId().equals(request.model())).toList();
          int largest = slots.stream().mapToInt(SlotStatus::contextPerSequence).max().orElse(Integer.MAX_VALUE);
          int prompt = RunActor.promptTokensAtLeast(request.generation(), limits);
          long needed = (long) prompt + request.generation().maxTokens();
          if (needed > largest) {
            throw new DalangException(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "the request needs at least " + needed + " tokens of context"
                + " (prompt " + prompt + " + max_tokens " + request.generation().maxTokens() + "), more than any slot serving '"
                + request.model() + "' holds (" + slots.stream().map(s -> s.slotId() + ": " + s.contextPerSequence()).toList() + ")", "max_tokens", 0);
          }
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

  /** The most dead-lettered jobs one page lists. */
  public static final int MAX_DLQ_PAGE = 500;

  /**
   * A page of the dead-lettered jobs of {@code tenantId} (null: all tenants) after {@code cursor} (0: the first);
   * {@code limit} must be 1 to {@link #MAX_DLQ_PAGE}.
   */
  public CompletionStage<DeadLetterQueue.Page> deadLetterPage(String tenantId, long cursor, int limit) {
    return deadLetters.page(tenantId, cursor, limit);
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
      if (c instanceof StatusReply.ErrorMessage m) throw Refusal.parse(m.getMessage(), code).toException();
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
