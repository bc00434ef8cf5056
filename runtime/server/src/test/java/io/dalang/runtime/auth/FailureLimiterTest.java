package io.dalang.runtime.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The per-address failure limit and the negative cache of the {@link Authenticator}, on a hand-driven clock. */
class FailureLimiterTest {
  final AtomicLong now = new AtomicLong(1_000);

  @Test
  void anAddressMayFailABurstThenWaitsForTheRefill() {
    var limiter = new FailureLimiter(3, 6, 100, now::get);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, limiter.waitNanos("10.0.0.1"));
      limiter.failed("10.0.0.1");
    }
    long wait = limiter.waitNanos("10.0.0.1");
    assertEquals(TimeUnit.SECONDS.toNanos(10), wait, 1_000); // 6 a minute: one every 10 s
    assertEquals(0, limiter.waitNanos("10.0.0.2"), "other addresses are not affected");
    now.addAndGet(wait);
    assertEquals(0, limiter.waitNanos("10.0.0.1"));
  }

  @Test
  void forgetsRefilledAddressesFirstWhenItTracksTooMany() {
    var limiter = new FailureLimiter(2, 1, 2, now::get);
    limiter.failed("a");
    limiter.failed("a");
    limiter.failed("b");
    now.addAndGet(TimeUnit.SECONDS.toNanos(60)); // b is full again, a has one token of two
    limiter.failed("c");
    limiter.failed("a");
    assertTrue(limiter.waitNanos("a") > 0, "an address not yet refilled is remembered");
  }

  @Test
  void unknownKeysAreRememberedBoundedAndForgotten() {
    var unknown = new UnknownKeys(2, TimeUnit.SECONDS.toNanos(60), now::get);
    var denial = AuthDenied.unknown();
    unknown.put("h1", denial);
    unknown.put("h2", denial);
    unknown.put("h3", denial);
    assertEquals(2, unknown.size());
    assertNull(unknown.get("h1"), "the oldest goes first");
    assertSame(denial, unknown.get("h3"));
    unknown.remove("h3");
    assertNull(unknown.get("h3"), "an issued key is forgotten at once");
    now.addAndGet(TimeUnit.SECONDS.toNanos(61));
    assertNull(unknown.get("h2"), "entries expire");
  }
}
