package io.dalang.runtime.auth;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * A token bucket per client address for failed authentications: each failure takes a token, tokens
 * come back at a steady rate up to a burst. An address with no token left is refused before anything
 * is looked up, so guessing keys costs the guesser time and the server almost nothing. Addresses are
 * tracked up to a bound; past it, the buckets that are full again (nothing to remember) are dropped,
 * and if that is not enough, all are (a flood from that many addresses is cut short by the negative
 * cache and the lookups themselves, not by this).
 */
final class FailureLimiter {
  private final double burst;
  private final double tokensPerNano;
  private final int maxAddresses;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  private static final class Bucket {
    double tokens;
    long atNanos;

    Bucket(double tokens, long atNanos) {
      this.tokens = tokens;
      this.atNanos = atNanos;
    }
  }

  /**
   * @param burst failures an address may have in a row
   * @param perMinute failures an address may have per minute after the burst is spent
   */
  FailureLimiter(int burst, int perMinute, int maxAddresses, LongSupplier nanoTime) {
    this.burst = Math.max(1, burst);
    this.tokensPerNano = Math.max(1, perMinute) / 60e9;
    this.maxAddresses = Math.max(1, maxAddresses);
    this.nanoTime = nanoTime;
  }

  /** Nanoseconds until {@code address} may fail again; 0: it may now. */
  long waitNanos(String address) {
    Bucket b = buckets.get(address);
    if (b == null) return 0;
    synchronized (b) {
      refill(b, nanoTime.getAsLong());
      return b.tokens >= 1 ? 0 : (long) Math.ceil((1 - b.tokens) / tokensPerNano);
    }
  }

  /** Takes a token from {@code address} for one failed authentication. */
  void failed(String address) {
    if (buckets.size() >= maxAddresses && !buckets.containsKey(address)) prune();
    Bucket b = buckets.computeIfAbsent(address, a -> new Bucket(burst, nanoTime.getAsLong()));
    synchronized (b) {
      refill(b, nanoTime.getAsLong());
      b.tokens = Math.max(0, b.tokens - 1);
    }
  }

  private void refill(Bucket b, long now) {
    b.tokens = Math.min(burst, b.tokens + (now - b.atNanos) * tokensPerNano);
    b.atNanos = now;
  }

  private void prune() {
    long now = nanoTime.getAsLong();
    buckets.values().removeIf(b -> {
      synchronized (b) {
        refill(b, now);
        return b.tokens >= burst;
      }
    });
    if (buckets.size() >= maxAddresses) buckets.clear();
  }
}
