package io.dalang.runtime.models;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.node.model-cache}: a node's store of pulled model blobs.
 *
 * @param maxBytes {@code max-bytes}; 0: no limit
 * @param locateTimeout {@code locate-timeout}: the wait for the cluster's answer where a blob is
 * @param ioTimeout {@code io-timeout}: connect, and silence within a transfer
 * @param attempts {@code attempts}: tries of one pull, each resuming the last
 */
public record ModelCacheSettings(long maxBytes, Duration locateTimeout, Duration ioTimeout, int attempts) {
  public static ModelCacheSettings from(Config c) {
    Config m = c.getConfig("dalang.node.model-cache");
    return new ModelCacheSettings(m.getBytes("max-bytes"), m.getDuration("locate-timeout"), m.getDuration("io-timeout"), m.getInt("attempts"));
  }
}
