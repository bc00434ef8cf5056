package io.dalang.runtime.jobs;

import io.dalang.actors.admission.Priority;
import io.dalang.actors.jobs.AttemptOutcome;
import io.dalang.actors.jobs.Job;
import io.dalang.actors.jobs.JobExecutor;
import io.dalang.actors.jobs.LiveAttempt;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.openai.RequestValidation;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import io.dalang.runtime.http.ErrorMapper;
import io.dalang.runtime.runs.RunLauncher;
import java.util.concurrent.CompletableFuture;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Runs a job's attempts as ordinary runs of the job's tenant through the {@link RunLauncher}
 * (quotas, admission at batch priority, placement, engine, telemetry), with the tenant's pools, models
 * and quotas as they are when the attempt starts. At most {@code max-concurrent-attempts} run at once
 * on this node; the others wait for a runner, handed out to the waiting tenants in turn ({@link AttemptGate}). The run's events are consumed here, never by a client:
 * they are published to the attempt's {@link LiveAttempt}, where a streaming request with an
 * {@code Idempotency-Key} attaches (and re-attaches). A failed attempt is retried only if none of its
 * tokens reached such a client.
 */
public final class LauncherJobExecutor implements JobExecutor {
  private final ActorSystem<?> system;
  private final RunLauncher runs;
  private final Authenticator auth;
  private final AttemptGate gate;
  private final int maxReplayTokens;

  /** @param maxReplayTokens tokens of a running attempt kept to replay to a client that attaches late */
  public LauncherJobExecutor(ActorSystem<?> system, RunLauncher runs, Authenticator auth, int maxConcurrentAttempts, int maxReplayTokens) {
    this.system = system;
    this.runs = runs;
    this.auth = auth;
    this.gate = new AttemptGate(maxConcurrentAttempts);
    this.maxReplayTokens = maxReplayTokens;
  }

  @Override
  public RunningAttempt start(Job job, String runId) {
    var attempt = new LaunchedAttempt(job, runId);
    attempt.begin();
    return attempt;
  }

  /** What a run emitted, folded: enough for the attempt's outcome. */
  private static final class Collected {
    final StringBuilder text = new StringBuilder();
    String engine;
    String slotId;
    GenerationEvent terminal;

    Collected add(GenerationEvent e) {
      if (e instanceof GenerationEvent.Started s) {
        engine = s.engine();
        slotId = s.slotId();
      } else if (e instanceof GenerationEvent.Token t) {
        text.append(t.text());
      } else {
        terminal = e;
      }
      return this;
    }

    AttemptOutcome outcome(String runId, boolean cancelled) {
      if (terminal instanceof GenerationEvent.End end) {
        return AttemptOutcome.succeeded(runId, engine, slotId, text.toString(), end.finishReason(), end.usage());
      }
      if (terminal instanceof GenerationEvent.Failed f) return AttemptOutcome.failed(runId, engine, slotId, f.error());
      return cancelled ? cancelledOutcome(runId)
          : AttemptOutcome.failed(runId, ErrorCode.INTERNAL, "the run's stream ended without a final event");
    }
  }

  private static AttemptOutcome cancelledOutcome(String runId) {
    return AttemptOutcome.failed(runId, ErrorCode.CANCELLED, "the attempt was cancelled");
  }

  private final class LaunchedAttempt implements RunningAttempt {
    private final Job job;
    private final String runId;
    private final CompletableFuture<AttemptOutcome> outcome = new CompletableFuture<>();
    private final LiveAttempt.Delivery delivery = new LiveAttempt.Delivery();
    private final ActorRef<LiveAttempt.Command> live;
    private volatile boolean cancelled;
    private volatile UniqueKillSwitch kill;
    private CompletableFuture<Void> permit;

    LaunchedAttempt(Job job, String runId) {
      this.job = job;
      this.runId = runId;
      this.live = system.systemActorOf(LiveAttempt.create(runId, delivery, maxReplayTokens), "live-" + runId, Props.empty());
    }

    void begin() {
      permit = gate.acquire(job.tenantId());
      permit.thenCompose(granted -> cancelled ? CompletableFuture.completedFuture(cancelledOutcome(runId))
              : auth.principalOf(job.tenantId(), job.keyId(), Role.ofStored(job.role())).thenCompose(this::run))
          .whenComplete((o, err) -> {
            gate.release();
            finish(err == null ? o : AttemptOutcome.failed(runId, null, null, ErrorMapper.toError(err)));
          });
    }

    /**
     * Ends the live output after every event published to it, then completes the outcome: by then
     * {@link #delivered()} is final.
     */
    private void finish(AttemptOutcome o) {
      GenerationEvent terminal = o.succeeded()
          ? new GenerationEvent.End(runId, o.finishReason(), o.usage(), EngineTimings.NONE)
          : new GenerationEvent.Failed(runId, o.error(), 0, EngineTimings.NONE);
      AskPattern.<LiveAttempt.Command, LiveAttempt.Finished>ask(live, to -> new LiveAttempt.Finish(terminal, to), Duration.ofSeconds(30),
              system.scheduler())
          .whenComplete((f, err) -> {
            delivery.seal();
            outcome.complete(o);
          });
    }

    private CompletionStage<AttemptOutcome> run(Principal p) {
      if (cancelled) return CompletableFuture.completedFuture(cancelledOutcome(runId));
      var validated = new RequestValidation.Validated(job.request().model(), false, job.request().forRun(runId));
      RunLauncher.StartedRun started;
      try {
        started = runs.start(p, validated, System.nanoTime(), Priority.BATCH, 0);
      } catch (DalangException e) {
        return CompletableFuture.completedFuture(AttemptOutcome.failed(runId, null, null, e.toError()));
      }
      return started.first().thenCompose(first -> {
        if (first instanceof GenerationEvent.Failed f) return CompletableFuture.completedFuture(AttemptOutcome.failed(runId, null, null, f.error()));
        Pair<UniqueKillSwitch, CompletionStage<Collected>> running = Source.single(first).concat(started.rest())
            .viaMat(KillSwitches.single(), Keep.right())
            .map(e -> {
              if (!e.isTerminal()) live.tell(new LiveAttempt.Publish(e));
              return e;
            })
            .toMat(Sink.fold(new Collected(), Collected::add), Keep.both())
            .run(system);
        kill = running.first();
        if (cancelled) kill.shutdown();
        return running.second().thenApply(c -> c.outcome(runId, cancelled));
      });
    }

    @Override
    public CompletionStage<AttemptOutcome> outcome() {
      return outcome;
    }

    @Override
    public CompletionStage<Void> running() {
      return permit;
    }

    @Override
    public ActorRef<LiveAttempt.Command> live() {
      return live;
    }

    @Override
    public boolean delivered() {
      return delivery.delivered();
    }

    @Override
    public void cancel() {
      cancelled = true;
      delivery.seal();
      if (permit != null && gate.abandon(permit)) finish(cancelledOutcome(runId));
      UniqueKillSwitch k = kill;
      if (k != null) k.shutdown();
    }
  }
}
