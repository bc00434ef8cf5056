package io.dalang.actors.audit;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.audit} keys.
 *
 * @param blockSize events per Merkle block of a new chain (a chain keeps the size it started with)
 * @param retention how long events are kept before whole blocks of them are pruned; zero keeps all
 * @param pruneInterval how often the writer looks for blocks to prune (when retention is set)
 * @param maxPending entries that may wait to be written before operations that need a durable record
 *     are refused ({@code dalang.audit.max-pending}); fire-and-forget entries get as many again of margin
 */
public record AuditSettings(int blockSize, Duration retention, Duration pruneInterval, int maxPending) {

  /** The default of {@code dalang.audit.max-pending}. */
  public static final int DEFAULT_MAX_PENDING = 100_000;

  public AuditSettings {
    if (blockSize < 1) throw new IllegalArgumentException("dalang.audit.block-size must be at least 1, not " + blockSize);
    if (retention.isNegative()) throw new IllegalArgumentException("dalang.audit.retention must not be negative");
    if (pruneInterval.isNegative() || pruneInterval.isZero()) throw new IllegalArgumentException("dalang.audit.prune-interval must be positive");
    if (maxPending < 1 || maxPending > 10_000_000) throw new IllegalArgumentException("dalang.audit.max-pending must be 1..10000000, not " + maxPending);
  }

  public static AuditSettings from(Config c) {
    Config a = c.getConfig("dalang.audit");
    return new AuditSettings(a.getInt("block-size"), a.getDuration("retention"), a.getDuration("prune-interval"),
        a.getInt("max-pending"));
  }

  /** Blocks of {@code blockSize}, nothing ever pruned. */
  public static AuditSettings keepForever(int blockSize) {
    return new AuditSettings(blockSize, Duration.ZERO, Duration.ofHours(1), DEFAULT_MAX_PENDING);
  }

  /** The same settings with another {@link #maxPending}. */
  public AuditSettings withMaxPending(int max) {
    return new AuditSettings(blockSize, retention, pruneInterval, max);
  }

  public boolean prunes() {
    return !retention.isZero();
  }
}
