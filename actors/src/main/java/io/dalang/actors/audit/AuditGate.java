package io.dalang.actors.audit;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;

/**
 * How an operation that must not happen unaudited asks the ledger: {@link #admit()} before an admin
 * change, {@link #recordDurably} for a secret read whose value is handed out only once its entry is
 * stored. A refusal, an error or no answer within the timeout all fail with {@code 503
 * audit_unavailable} and {@code Retry-After}: the operation fails closed.
 */
public final class AuditGate {
  /** What a refused caller is told to wait: the writer's first retry backoff is well under it. */
  public static final long RETRY_AFTER_SECONDS = 2;

  private final ActorRef<AuditActor.Command> ledger;
  private final Scheduler scheduler;
  private final Duration timeout;

  public AuditGate(ActorRef<AuditActor.Command> ledger, Scheduler scheduler, Duration timeout) {
    this.ledger = ledger;
    this.scheduler = scheduler;
    this.timeout = timeout;
  }

  /** Completes if the ledger would take a durable record now; else fails with {@code audit_unavailable}. */
  public CompletionStage<Done> admit() {
    return gated(AskPattern.ask(ledger, AuditActor.Admit::new, timeout, scheduler));
  }

  /** Completes once {@code entry} is stored; else fails with {@code audit_unavailable}. */
  public CompletionStage<Done> recordDurably(AuditEntry entry) {
    return gated(AskPattern.<AuditActor.Command, StatusReply<Done>>ask(ledger, to -> new AuditActor.RecordDurable(entry, to), timeout, scheduler));
  }

  private static CompletionStage<Done> gated(CompletionStage<StatusReply<Done>> asked) {
    return asked.handle((reply, err) -> {
      if (err == null && reply.isSuccess()) return Done.getInstance();
      String why = err != null ? "the audit ledger did not answer in time" : reply.getError().getMessage();
      throw new DalangException(ErrorCode.AUDIT_UNAVAILABLE, why + "; nothing was done, retry later", null, RETRY_AFTER_SECONDS);
    });
  }
}
