package io.dalang.actors.audit;

import com.typesafe.config.Config;

/**
 * {@code dalang.audit} keys.
 *
 * @param blockSize events per Merkle block of a new chain (a chain keeps the size it started with)
 */
public record AuditSettings(int blockSize) {

  public AuditSettings {
    if (blockSize < 1) throw new IllegalArgumentException("dalang.audit.block-size must be at least 1, not " + blockSize);
  }

  public static AuditSettings from(Config c) {
    Config a = c.getConfig("dalang.audit");
    return new AuditSettings(a.getInt("block-size"));
  }
}
