package io.dalang.actors.audit;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.audit} keys.
 *
 * @param blockSize events per Merkle block of a new chain (a chain keeps the size it started with)
 * @param retention how long events are kept before whole blocks of them are pruned; zero keeps all
 * @param pruneInterval how often the writer looks for blocks to prune (when retention is set)
 */
public record AuditSettings(int blockSize, Duration retention, Duration pruneInterval) {

  public AuditSettings {
    if (blockSize < 1) throw new IllegalArgumentException("dalang.audit.block-size must be at least 1, not " + blockSize);
    if (retention.isNegative()) throw new IllegalArgumentException("dalang.audit.retention must not be negative");
    if (pruneInterval.isNegative() || pruneInterval.isZero()) throw new IllegalArgumentException("dalang.audit.prune-interval must be positive");
  }

  public static AuditSettings from(Config c) {
    Config a = c.getConfig("dalang.audit");
    return new AuditSettings(a.getInt("block-size"), a.getDuration("retention"), a.getDuration("prune-interval"));
  }

  /** Blocks of {@code blockSize}, nothing ever pruned. */
  public static AuditSettings keepForever(int blockSize) {
    return new AuditSettings(blockSize, Duration.ZERO, Duration.ofHours(1));
  }

  public boolean prunes() {
    return !retention.isZero();
  }
}
