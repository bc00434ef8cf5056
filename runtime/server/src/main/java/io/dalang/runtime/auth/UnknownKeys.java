package io.dalang.runtime.auth;

import java.util.LinkedHashMap;
import java.util.function.LongSupplier;

/**
 * The negative cache: hashes of keys that failed to authenticate, each with its denial, for a while.
 * Bounded: past {@code capacity} the oldest entry goes. A key that is issued later is removed at once
 * ({@link Authenticator#issued}); a revoked key stays revoked, so remembering its denial is safe.
 */
final class UnknownKeys {
  private record Entry(AuthDenied denial, long expiresAtNanos) {}

  private final int capacity;
  private final long ttlNanos;
  private final LongSupplier nanoTime;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

  UnknownKeys(int capacity, long ttlNanos, LongSupplier nanoTime) {
    this.capacity = Math.max(1, capacity);
    this.ttlNanos = ttlNanos;
    this.nanoTime = nanoTime;
  }

  /** The remembered denial of {@code hash}, or null. */
  synchronized AuthDenied get(String hash) {
    Entry e = entries.get(hash);
    if (e == null) return null;
    if (e.expiresAtNanos() - nanoTime.getAsLong() > 0) return e.denial();
    entries.remove(hash);
    return null;
  }

  synchronized void put(String hash, AuthDenied denial) {
    entries.remove(hash);
    if (entries.size() >= capacity) {
      var oldest = entries.entrySet().iterator();
      oldest.next();
      oldest.remove();
    }
    entries.put(hash, new Entry(denial, nanoTime.getAsLong() + ttlNanos));
  }

  synchronized void remove(String hash) {
    entries.remove(hash);
  }

  synchronized int size() {
    return entries.size();
  }
}
