package io.dalang.runtime.kpi;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.protocols.sweep.SweepSummary.Variant;
import io.dalang.runtime.kpi.KpiPolicy.Slo;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;
import java.util.stream.Collectors;

/**
 * Checks a sweep summary against a {@link KpiPolicy}. Pure: the figures come from the summary's variants,
 * which a sweep computes from valid runs only, whatever its {@code include_invalid} said (that flag widens
 * the frontier view, never these figures). A variant without valid runs has no figure and fails every SLO
 * that applies to it except the one on {@code valid_run_ratio}, which it fails by its ratio: a gate fails
 * closed. An SLO whose variant is not there (no recommendation, a name the sweep did not measure) fails too.
 */
public final class KpiCheck {
  private KpiCheck() {}

  /**
   * One SLO broken by one variant.
   *
   * @param variant null where the SLO has no variant to check (no recommendation, unknown name)
   * @param actual null where there is no figure
   * @param bound the bound broken, e.g. {@code min 0.9}
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Violation(String slo, String variant, String metric, Double actual, String bound) {}

  /**
   * What one SLO found.
   *
   * @param measured variant → its figure (null: none), for the variants the SLO applies to
   * @param detail one line for people, with the numbers
   */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record SloResult(String name, String metric, String appliesTo, Double min, Double max,
      List<Measured> measured, List<Violation> violations, String detail) {
    @JsonProperty("passed")
    public boolean passed() {
      return violations.isEmpty();
    }
  }

  public record Measured(String variant, Double value) {}

  /** Every SLO's result, the recommendation requirement first when the policy has it. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  public record Report(String sweepId, boolean includeInvalid, List<SloResult> slos) {
    @JsonProperty("passed")
    public boolean passed() {
      return slos.stream().allMatch(SloResult::passed);
    }

    @JsonProperty("violations")
    public List<Violation> violations() {
      return slos.stream().flatMap(r -> r.violations().stream()).toList();
    }
  }

  public static Report evaluate(KpiPolicy policy, SweepSummary summary) {
    var results = new ArrayList<SloResult>();
    if (policy.requireRecommendation()) results.add(recommendation(summary));
    for (Slo slo : policy.slos()) results.add(check(slo, summary));
    return new Report(summary.sweepId(), summary.includeInvalid(), List.copyOf(results));
  }

  private static SloResult recommendation(SweepSummary s) {
    String recommended = recommended(s);
    String name = KpiPolicy.REQUIRE_RECOMMENDATION;
    if (recommended != null) {
      return new SloResult(name, "recommendation", KpiPolicy.RECOMMENDED, null, null, List.of(), List.of(), recommended + " recommended");
    }
    String why = s.recommendation() != null && s.recommendation().reason() != null ? ": " + s.recommendation().reason() : "";
    return new SloResult(name, "recommendation", KpiPolicy.RECOMMENDED, null, null, List.of(),
        List.of(new Violation(name, null, "recommendation", null, "a recommended variant")), "no variant recommended" + why);
  }

  private static SloResult check(Slo slo, SweepSummary s) {
    List<Variant> targets = targets(slo.appliesTo(), s);
    String head = slo.metric().key() + " (" + slo.bounds() + ") on " + slo.appliesTo();
    if (targets.isEmpty()) {
      var v = new Violation(slo.name(), null, slo.metric().key(), null, slo.bounds());
      return result(slo, List.of(), List.of(v), head + ": " + missing(slo.appliesTo(), s));
    }
    var measured = new ArrayList<Measured>();
    var violations = new ArrayList<Violation>();
    for (Variant v : targets) {
      OptionalDouble x = slo.metric().of(v);
      Double value = x.isPresent() ? x.getAsDouble() : null;
      measured.add(new Measured(v.name(), value));
      String broken = value == null ? slo.bounds()
          : slo.min() != null && value < slo.min() ? "min " + number(slo.min())
          : slo.max() != null && value > slo.max() ? "max " + number(slo.max()) : null;
      if (broken != null) violations.add(new Violation(slo.name(), v.name(), slo.metric().key(), value, broken));
    }
    String figures = (violations.isEmpty() ? measured.stream().map(m -> m.variant() + " " + number(m.value()))
        : violations.stream().map(v -> v.variant() + (v.actual() == null ? " has no valid runs" : " " + number(v.actual()))))
        .collect(Collectors.joining(", "));
    return result(slo, measured, violations, head + ": " + (violations.isEmpty() ? figures : "violated by " + figures));
  }

  private static SloResult result(Slo slo, List<Measured> measured, List<Violation> violations, String detail) {
    return new SloResult(slo.name(), slo.metric().key(), slo.appliesTo(), slo.min(), slo.max(),
        List.copyOf(measured), List.copyOf(violations), detail);
  }

  private static List<Variant> targets(String appliesTo, SweepSummary s) {
    if (KpiPolicy.ALL.equals(appliesTo)) return s.variants();
    String name = switch (appliesTo) {
      case KpiPolicy.RECOMMENDED -> recommended(s);
      case KpiPolicy.REFERENCE -> s.reference();
      default -> appliesTo;
    };
    Variant v = name == null ? null : s.variant(name);
    return v == null ? List.of() : List.of(v);
  }

  private static String missing(String appliesTo, SweepSummary s) {
    return switch (appliesTo) {
      case KpiPolicy.ALL -> "the sweep measured no variant";
      case KpiPolicy.RECOMMENDED -> "no variant recommended, nothing to check";
      case KpiPolicy.REFERENCE -> "the reference " + (s.reference() == null ? "is not named" : s.reference() + " is not among the variants");
      default -> "variant " + appliesTo + " is not in this sweep";
    };
  }

  private static String recommended(SweepSummary s) {
    return s.recommendation() == null ? null : s.recommendation().variant();
  }

  /** A figure as people read it: at most three decimals, no trailing zeros ({@code 0.95}, {@code 812.5}, {@code 3}). */
  public static String number(Double x) {
    if (x == null) return "none";
    if (x.isInfinite()) return x > 0 ? "inf" : "-inf";
    return BigDecimal.valueOf(x).setScale(3, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString();
  }
}
