package io.dalang.runtime.bench.load;

import org.HdrHistogram.Histogram;

/**
 * Latencies in microseconds, from 1 µs to one hour at three significant digits (HdrHistogram: fixed
 * memory however many samples, so ITLs of 10,000 streams cost no more than of one). Read in
 * milliseconds. Recording is synchronized: a load run records from the HTTP client's few threads.
 */
public final class LatencyHistogram {
  private static final long MAX_MICROS = 3_600_000_000L;
  private final Histogram h = new Histogram(1, MAX_MICROS, 3);

  public synchronized void recordNanos(long nanos) {
    h.recordValue(Math.max(1, Math.min(MAX_MICROS, (nanos + 500) / 1000)));
  }

  public synchronized void add(LatencyHistogram other) {
    Histogram copy;
    synchronized (other) {
      copy = other.h.copy();
    }
    h.add(copy);
  }

  public synchronized long count() {
    return h.getTotalCount();
  }

  /** The value at percentile {@code p} (0 to 100), in milliseconds; NaN when empty. */
  public synchronized double percentileMs(double p) {
    return h.getTotalCount() == 0 ? Double.NaN : h.getValueAtPercentile(p) / 1000.0;
  }

  public synchronized double maxMs() {
    return h.getTotalCount() == 0 ? Double.NaN : h.getMaxValue() / 1000.0;
  }

  public synchronized double meanMs() {
    return h.getTotalCount() == 0 ? Double.NaN : h.getMean() / 1000.0;
  }
}
