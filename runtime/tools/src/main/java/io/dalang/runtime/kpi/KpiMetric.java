package io.dalang.runtime.kpi;

import io.dalang.protocols.sweep.SweepSummary.Variant;
import java.util.Arrays;
import java.util.Locale;
import java.util.OptionalDouble;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/**
 * The figures of a sweep's variant that KPI policies and comparisons speak of, by their summary (and
 * policy) names. A sweep computes a variant's figures from its valid runs only; where it had none there
 * is no figure, and {@link #of} says so instead of passing on the summary's placeholder.
 */
public enum KpiMetric {
  TOKENS_PER_SECOND(true, Variant::tokensPerSecond),
  TOKENS_PER_SECOND_P50(true, Variant::tokensPerSecondP50),
  TTFT_MS_P50(false, Variant::ttftMsP50),
  TTFT_MS_P95(false, Variant::ttftMsP95),
  ADHERENCE(true, Variant::adherence),
  MEAN_FIRST_DIVERGENCE(true, Variant::meanFirstDivergence),
  /** Valid runs over measured runs: warm-up runs are discarded by design and do not count against it. */
  VALID_RUN_RATIO(true, v -> {
    int measured = v.runsTotal() - (v.invalidReasons() == null ? 0 : v.invalidReasons().getOrDefault("warmup", 0));
    return measured <= 0 ? Double.NaN : (double) v.runsValid() / measured;
  }),
  EXACT_MATCHES(true, Variant::exactMatches);

  private final boolean higherIsBetter;
  private final ToDoubleFunction<Variant> figure;

  KpiMetric(boolean higherIsBetter, ToDoubleFunction<Variant> figure) {
    this.higherIsBetter = higherIsBetter;
    this.figure = figure;
  }

  /** The name in summaries and policies, e.g. {@code ttft_ms_p95}. */
  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  public boolean higherIsBetter() {
    return higherIsBetter;
  }

  /**
   * The variant's figure, from its valid runs; empty where there is none: no valid run (the ratio of valid
   * runs excepted, which is 0 then), no run at all, or a figure the sweep could not take (NaN, infinite).
   */
  public OptionalDouble of(Variant v) {
    if (this != VALID_RUN_RATIO && v.runsValid() == 0) return OptionalDouble.empty();
    return raw(v);
  }

  /** The figure as the summary states it, also for a variant without valid runs (for views that show those, marked). */
  public OptionalDouble raw(Variant v) {
    double x = figure.applyAsDouble(v);
    return Double.isFinite(x) ? OptionalDouble.of(x) : OptionalDouble.empty();
  }

  /** The metric named {@code key}; the message lists the known names. */
  public static KpiMetric parse(String key) {
    for (KpiMetric m : values()) {
      if (m.key().equals(key)) return m;
    }
    throw new IllegalArgumentException("'" + key + "' is not a metric; one of "
        + Arrays.stream(values()).map(KpiMetric::key).collect(Collectors.joining(", ")));
  }
}
