package io.dalang.actors.jobs;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.persistence.query.Sequence;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * The dead-letter queue: the jobs that are dead-lettered now, a page at a time. There is no separate
 * index to keep in step: every {@code JobDeadLettered} event is tagged {@link JobEntity#DEAD_LETTER_TAG}
 * and {@link JobEntity#deadLetterTag its tenant's tag}; a page reads the events after its cursor by the
 * tag (a tenant's listing never touches other tenants' jobs), asks each job for its state, and keeps a
 * job only at the event of its current dead-lettering (a replayed job that has not failed again, or an
 * earlier dead-lettering of a job, is left out), so each job is listed once, oldest dead-lettered first.
 */
public final class DeadLetterQueue {
  private static final int PARALLELISM = 8;

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final Duration timeout;

  public DeadLetterQueue(ActorSystem<?> system, Duration timeout) {
    this.system = system;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
  }

  /**
   * One page of the queue.
   *
   * @param next the cursor of the next page, null when this is the last one
   */
  public record Page(List<JobView> jobs, Long next) {}

  /**
   * Up to {@code limit} dead-lettered jobs of {@code tenantId} (null: of all tenants) after {@code cursor}
   * (0: from the start), oldest dead-lettered first.
   */
  public CompletionStage<Page> page(String tenantId, long cursor, int limit) {
    JdbcReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    String tag = tenantId == null ? JobEntity.DEAD_LETTER_TAG : JobEntity.deadLetterTag(tenantId);
    String prefix = JobEntity.ENTITY_KEY.name() + "|";
    return journal.currentEventsByTag(tag, cursor <= 0 ? Offset.noOffset() : Offset.sequence(cursor))
        .mapAsync(PARALLELISM, env -> get(env.persistenceId().substring(prefix.length())).thenApply(v -> Pair.create(env, v)))
        .filter(p -> current(p.first(), p.second()))
        .take(limit)
        .runWith(Sink.seq(), system)
        .thenApply(found -> new Page(found.stream().map(Pair::second).toList(),
            found.size() < limit ? null : ((Sequence) found.get(found.size() - 1).first().offset()).value()));
  }

  /** Every dead-lettered job of {@code tenantId} (null: of all tenants). */
  public CompletionStage<List<JobView>> list(String tenantId) {
    return page(tenantId, 0, Integer.MAX_VALUE).thenApply(Page::jobs);
  }

  /** Whether {@code env} is the event of {@code v}'s current dead-lettering. */
  private static boolean current(EventEnvelope env, JobView v) {
    return JobView.DEAD_LETTERED.equals(v.state()) && env.event() instanceof JobEvent.JobDeadLettered d && d.at().equals(v.deadLetteredAt());
  }

  private CompletionStage<JobView> get(String jobId) {
    return sharding.entityRefFor(JobEntity.ENTITY_KEY, jobId).ask(JobCommand.GetJob::new, timeout);
  }
}
