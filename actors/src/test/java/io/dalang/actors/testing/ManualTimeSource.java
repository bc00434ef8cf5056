package io.dalang.actors.testing;

import io.dalang.actors.TimeSource;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link TimeSource} that moves only when a test advances it; both clocks move together. */
public final class ManualTimeSource implements TimeSource {
  private final AtomicLong epochMillis = new AtomicLong(1_700_000_000_000L);
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  public void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
    epochMillis.addAndGet(d.toMillis());
  }

  @Override
  public long epochMillis() {
    return epochMillis.get();
  }

  @Override
  public long nanoTime() {
    return nanos.get();
  }
}
