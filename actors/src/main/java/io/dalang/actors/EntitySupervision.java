package io.dalang.actors;

import java.time.Duration;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.actor.typed.SupervisorStrategy;

/** How every sharded entity restarts after its journal failed: quickly at first, at most every 5 s. */
public final class EntitySupervision {
  public static final BackoffSupervisorStrategy JOURNAL_BACKOFF =
      SupervisorStrategy.restartWithBackoff(Duration.ofMillis(200), Duration.ofSeconds(5), 0.1);

  private EntitySupervision() {}
}
