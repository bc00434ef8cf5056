package io.dalang.runtime.jobs;

import io.dalang.actors.jobs.JobCommand;
import io.dalang.actors.jobs.JobView;
import io.dalang.actors.jobs.LiveAttempt;
import io.dalang.actors.run.RunOutput;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.runtime.http.JobJson;
import io.dalang.runtime.runs.RunLauncher;
import java.time.Duration;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * One client's view of a keyed streaming request, at the edge: follows the job's attempts' live
 * outputs ({@link LiveAttempt}) into the client's stream, from the first event, whichever node runs
 * the attempt. It asks the job for its running attempt ({@link JobCommand.AttachLive}), subscribes,
 * and writes what it receives; an attempt that fails before any token reached a client is followed by
 * the job's next attempt (its {@code Started} is not repeated), a finished job by its stored result.
 *
 * <p>It never writes tokens of two attempts: if the attempt it streamed tokens of disappears without
 * a terminal event (its node stopped), the stream ends with a retriable {@code internal} error, and the
 * same request sent again attaches to the job's next attempt from its start.
 */
final class JobStreamFollower {
  private JobStreamFollower() {}

  private static final DalangError INTERRUPTED = DalangError.of(ErrorCode.INTERNAL, "the request's run was interrupted after its"
      + " first tokens were sent; send it again with the same Idempotency-Key to get the whole completion");

  private sealed interface Msg {}

  private record Target(JobCommand.LiveTarget target, Throwable failure) implements Msg {}

  private record FromLive(LiveAttempt.Update update) implements Msg {}

  private record LiveGone(String runId) implements Msg {}

  private enum ClientGone implements Msg { INSTANCE }

  /**
   * Follows job {@code job} for one client.
   *
   * @param wait longest to wait for an attempt to start or the job to finish ({@code dalang.jobs.sync-wait-timeout})
   * @param capacity events the client may have unread; the replay of a late attach must fit
   */
  static RunLauncher.StartedRun start(ActorSystem<?> system, String jobId, EntityRef<JobCommand> job, Duration wait, int capacity) {
    var output = new RunOutput(capacity);
    ActorRef<Msg> follower = system.systemActorOf(Behaviors.<Msg>setup(ctx -> new Following(ctx, jobId, job, wait, output).attach(null)),
        "follow-" + jobId + "-" + UUID.randomUUID(), Props.empty());
    return RunLauncher.StartedRun.of(output, () -> follower.tell(ClientGone.INSTANCE));
  }

  private static final class Following {
    private final ActorContext<Msg> ctx;
    private final String jobId;
    private final EntityRef<JobCommand> job;
    private final Duration wait;
    private final RunOutput output;
    private final ActorRef<LiveAttempt.Update> updates;
    private String runId;
    private boolean startedSent;
    private boolean tokensSent;

    Following(ActorContext<Msg> ctx, String jobId, EntityRef<JobCommand> job, Duration wait, RunOutput output) {
      this.ctx = ctx;
      this.jobId = jobId;
      this.job = job;
      this.wait = wait;
      this.output = output;
      this.updates = ctx.messageAdapter(LiveAttempt.Update.class, FromLive::new);
    }

    /** Asks the job for its running attempt other than {@code afterRunId}, or its end. */
    Behavior<Msg> attach(String afterRunId) {
      runId = null;
      ctx.ask(JobCommand.LiveTarget.class, job, wait, to -> new JobCommand.AttachLive(afterRunId, to), Target::new);
      return Behaviors.receive(Msg.class)
          .onMessage(Target.class, this::onTarget)
          .onMessage(FromLive.class, m -> onUpdate(m.update()))
          .onMessage(LiveGone.class, m -> m.runId().equals(runId) ? attemptEnded(m.runId()) : Behaviors.same())
          .onMessage(ClientGone.class, m -> Behaviors.stopped())
          .build();
    }

    private Behavior<Msg> onTarget(Target m) {
      if (m.failure() != null) {
        return end(failed(DalangError.of(ErrorCode.TIMEOUT, "job " + jobId + " did not start or finish within " + wait.toSeconds()
            + " s; it goes on: send the request again with the same Idempotency-Key, or GET /v1/jobs/" + jobId)));
      }
      if (m.target() instanceof JobCommand.Live live) {
        runId = live.runId();
        ctx.watchWith(live.output(), new LiveGone(live.runId()));
        live.output().tell(new LiveAttempt.Subscribe(updates));
        return Behaviors.same();
      }
      return finished(((JobCommand.Done) m.target()).job());
    }

    private Behavior<Msg> onUpdate(LiveAttempt.Update u) {
      if (u instanceof LiveAttempt.Refused r) return end(failed(r.error()));
      if (u instanceof LiveAttempt.AttemptEnded e) return e.runId().equals(runId) ? attemptEnded(e.runId()) : Behaviors.same();
      var events = (LiveAttempt.Events) u;
      if (!events.runId().equals(runId)) return Behaviors.same();
      for (GenerationEvent e : events.events()) {
        if (e.isTerminal()) return end(e);
        if (e instanceof GenerationEvent.Started && startedSent) continue;
        if (e instanceof GenerationEvent.Token) tokensSent = true;
        startedSent = true;
        if (!write(e)) return Behaviors.stopped();
      }
      return Behaviors.same();
    }

    /** The attempt followed ended without a terminal event for this client: follow the next one, unless tokens went out. */
    private Behavior<Msg> attemptEnded(String endedRunId) {
      if (tokensSent) {
        return end(failed(INTERRUPTED));
      }
      return attach(endedRunId);
    }

    /** The job is finished: its stored result (or error) as the events a live run would have sent. */
    private Behavior<Msg> finished(JobView v) {
      var r = v.result();
      if (r == null) {
        DalangError e = v.exists() ? JobJson.error(v.lastAttempt()) : null;
        return end(failed(e != null ? e : DalangError.of(ErrorCode.INTERNAL, "job " + jobId + " ended without a result")));
      }
      if (tokensSent) {
        return end(failed(INTERRUPTED));
      }
      if (!startedSent && !write(new GenerationEvent.Started(r.runId(), "", "", 0))) return Behaviors.stopped();
      if (!r.text().isEmpty() && !write(new GenerationEvent.Token(r.runId(), r.text()))) return Behaviors.stopped();
      return end(JobJson.end(r));
    }

    private GenerationEvent failed(DalangError e) {
      return new GenerationEvent.Failed(runId != null ? runId : jobId, e, 0, EngineTimings.NONE);
    }

    private boolean write(GenerationEvent e) {
      if (output.offer(e)) return true;
      output.fail(new IllegalStateException("the client reads too slowly"));
      return false;
    }

    private Behavior<Msg> end(GenerationEvent terminal) {
      if (write(terminal)) output.complete();
      return Behaviors.stopped();
    }
  }
}
