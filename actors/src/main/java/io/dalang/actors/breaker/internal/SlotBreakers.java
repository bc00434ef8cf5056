package io.dalang.actors.breaker.internal;

import io.dalang.actors.TimeSource;
import io.dalang.actors.breaker.BreakerSettings;
import io.dalang.actors.breaker.CircuitBreaker;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The circuit breakers of one pool's slots, with their metrics: {@code dalang_breaker_state{pool,slot}}
 * (0 closed, 1 half-open, 2 open) and {@code dalang_breaker_transitions_total{pool,slot,from,to}}. Owned
 * by the pool's admission actor; not thread-safe.
 */
public final class SlotBreakers {
  private static final Logger log = LoggerFactory.getLogger(SlotBreakers.class);

  private final String poolId;
  private final BreakerSettings settings;
  private final MeterRegistry metrics;
  private final MultiGauge stateGauge;
  private final TimeSource time;
  private final Map<String, CircuitBreaker> bySlot = new TreeMap<>();

  public SlotBreakers(String poolId, BreakerSettings settings, MeterRegistry metrics, TimeSource time) {
    this.time = time;
    this.poolId = poolId;
    this.settings = settings;
    this.metrics = metrics;
    this.stateGauge = MultiGauge.builder("dalang_breaker_state")
        .description("Circuit breaker of a model slot: 0 closed, 1 half-open (one probe run let through), 2 open")
        .register(metrics);
  }

  /** A slot this pool now knows: it gets a (closed) breaker and its gauge row. */
  public void know(String slotId) {
    if (bySlot.containsKey(slotId)) return;
    bySlot.put(slotId, new CircuitBreaker(settings));
    publish(time.nanoTime());
  }

  /** The slots no run may be dispatched to at {@code now}: open, or half-open with their probe out. */
  public Set<String> blocked(long now) {
    Set<String> out = null;
    for (var e : bySlot.entrySet()) {
      CircuitBreaker b = e.getValue();
      note(e.getKey(), b.advance(now), now);
      if (!b.allows(now)) {
        if (out == null) out = new HashSet<>();
        out.add(e.getKey());
      }
    }
    return out == null ? Set.of() : out;
  }

  public void dispatched(String slotId, String runId, long now) {
    CircuitBreaker b = bySlot.get(slotId);
    if (b != null) b.dispatched(runId, now);
  }

  public void record(String slotId, String runId, CircuitBreaker.Outcome outcome, long now) {
    if (outcome == null) outcome = CircuitBreaker.Outcome.NEUTRAL;
    know(slotId);
    CircuitBreaker b = bySlot.get(slotId);
    note(slotId, b.record(runId, outcome, now), now);
  }

  /** Open breakers whose time is up become half-open (and the gauge says so) without waiting for a run. */
  public void tick(long now) {
    for (var e : bySlot.entrySet()) note(e.getKey(), e.getValue().advance(now), now);
  }

  public CircuitBreaker.State state(String slotId, long now) {
    CircuitBreaker b = bySlot.get(slotId);
    return b == null ? CircuitBreaker.State.CLOSED : b.state(now);
  }

  private void note(String slotId, CircuitBreaker.Transition t, long now) {
    if (t == null) return;
    metrics.counter("dalang_breaker_transitions", "pool", poolId, "slot", slotId, "from", t.from().wireName(), "to", t.to().wireName())
        .increment();
    CircuitBreaker b = bySlot.get(slotId);
    switch (t.to()) {
      case OPEN -> log.warn("slot {}: circuit breaker open after {} engine failures in a row; no runs for {} s", slotId,
          b.consecutiveFailures(), settings.openDuration().toSeconds());
      case HALF_OPEN -> log.info("slot {}: circuit breaker half-open; one probe run goes through", slotId);
      case CLOSED -> log.info("slot {}: circuit breaker closed; the probe run succeeded", slotId);
    }
    publish(now);
  }

  private void publish(long now) {
    var rows = new ArrayList<MultiGauge.Row<?>>(bySlot.size());
    for (var e : bySlot.entrySet()) {
      rows.add(MultiGauge.Row.of(Tags.of("pool", poolId, "slot", e.getKey()), e.getValue().state(now).gauge()));
    }
    stateGauge.register(rows, true);
  }
}
