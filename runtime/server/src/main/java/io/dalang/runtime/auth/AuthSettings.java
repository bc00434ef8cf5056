package io.dalang.runtime.auth;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code dalang.http.auth-*}: how long keys are remembered, good and unknown, and how many failed
 * authentications a client address may have (docs/security.md, "Floods").
 *
 * @param cacheTtl how long an authenticated key is trusted without asking its entity again
 * @param unknownKeys how many unknown key hashes are remembered (the negative cache)
 * @param unknownTtl how long an unknown key hash is remembered
 * @param failureBurst failed authentications an address may have in a row
 * @param failuresPerMinute failed authentications an address may have per minute once the burst is spent
 * @param trackedAddresses how many client addresses the failure limit remembers
 */
public record AuthSettings(Duration cacheTtl, int unknownKeys, Duration unknownTtl, int failureBurst, int failuresPerMinute,
    int trackedAddresses) {

  public static AuthSettings from(Config config) {
    Config c = config.getConfig("dalang.http");
    return new AuthSettings(c.getDuration("auth-cache-ttl"), c.getInt("auth-unknown-keys"), c.getDuration("auth-unknown-ttl"),
        c.getInt("auth-failure-burst"), c.getInt("auth-failures-per-minute"), c.getInt("auth-tracked-addresses"));
  }
}
