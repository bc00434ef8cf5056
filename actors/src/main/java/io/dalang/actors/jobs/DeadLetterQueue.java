package io.dalang.actors.jobs;

import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The dead-letter queue: the jobs that are dead-lettered now. There is no separate index to keep in
 * step: every {@code JobDeadLettered} event is tagged {@link JobEntity#DEAD_LETTER_TAG}, the jobs
 * that ever were dead-lettered are read from the journal by that tag, and each is asked for its state
 * (a replayed job that has not failed again is left out). Listing costs one question per job ever
 * dead-lettered: fine for a queue that operators keep short by replaying or accepting its jobs.
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

  /** The dead-lettered jobs of {@code tenantId} (null: of all tenants), oldest dead-lettered first. */
  public CompletionStage<List<JobView>> list(String tenantId) {
    JdbcReadJournal journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    String prefix = JobEntity.ENTITY_KEY.name() + "|";
    return journal.currentEventsByTag(JobEntity.DEAD_LETTER_TAG, Offset.noOffset())
        .map(EventEnvelope::persistenceId)
        .runWith(Sink.seq(), system)
        .thenCompose(ids -> Source.from(List.copyOf(new LinkedHashSet<>(ids)))
            .map(pid -> pid.substring(prefix.length()))
            .mapAsync(PARALLELISM, this::get)
            .filter(v -> JobView.DEAD_LETTERED.equals(v.state()) && (tenantId == null || v.job().tenantId().equals(tenantId)))
            .runWith(Sink.seq(), system))
        .thenApply(views -> views.stream().sorted(Comparator.comparing(JobView::deadLetteredAt)).toList());
  }

  private CompletionStage<JobView> get(String jobId) {
    return sharding.entityRefFor(JobEntity.ENTITY_KEY, jobId).ask(JobCommand.GetJob::new, timeout);
  }
}
