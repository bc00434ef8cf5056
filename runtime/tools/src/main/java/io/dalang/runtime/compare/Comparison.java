package io.dalang.runtime.compare;

import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.protocols.sweep.SweepSummary.Variant;
import io.dalang.runtime.compare.ComparisonGraph.Cell;
import io.dalang.runtime.compare.ComparisonGraph.Difference;
import io.dalang.runtime.compare.ComparisonGraph.Edge;
import io.dalang.runtime.compare.ComparisonGraph.Node;
import io.dalang.runtime.compare.ComparisonGraph.Tally;
import io.dalang.runtime.compare.ComparisonGraph.TopDeltas;
import io.dalang.runtime.kpi.KpiMetric;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeSet;

/**
 * Compares sweeps pairwise (pure): per metric, how many variants got better, worse or stayed within the
 * tie tolerance, and which changed most. Figures are the summaries' valid-run figures; a variant without
 * valid runs in either sweep is skipped unless {@code includeInvalid}, which shows the summary's figures
 * for it, marked.
 */
public final class Comparison {
  /** The metrics compared, in this order. */
  public static final List<KpiMetric> METRICS =
      List.of(KpiMetric.TOKENS_PER_SECOND, KpiMetric.ADHERENCE, KpiMetric.TTFT_MS_P95, KpiMetric.MEAN_FIRST_DIVERGENCE);

  public static final String WIN = "win";
  public static final String LOSS = "loss";
  public static final String TIE = "tie";

  /**
   * @param tieTolerance a relative change under this (0.02 = 2%) is a tie
   * @param topK how many changes {@link ComparisonGraph#top()} keeps per later sweep
   * @param includeInvalid compare variants without valid runs too (marked)
   */
  public record Options(double tieTolerance, int topK, boolean includeInvalid) {}

  private Comparison() {}

  /** Sweeps in the order given; sweep ids must be distinct. */
  public static ComparisonGraph compare(List<SweepSummary> sweeps, Options o) {
    var nodes = sweeps.stream().map(Comparison::node).toList();
    var edges = new ArrayList<Edge>();
    for (int i = 0; i < sweeps.size(); i++) {
      for (int j = i + 1; j < sweeps.size(); j++) edges.add(edge(sweeps.get(i), sweeps.get(j), o));
    }
    var top = edges.stream().filter(e -> e.from().equals(sweeps.get(0).sweepId()))
        .map(e -> new TopDeltas(e.from(), e.to(), top(e.cells(), o.topK()))).toList();
    return new ComparisonGraph(o.tieTolerance(), o.includeInvalid(), nodes, List.copyOf(edges), top);
  }

  private static Node node(SweepSummary s) {
    var digests = new LinkedHashMap<String, String>();
    for (Variant v : s.variants()) digests.put(v.name(), v.modelDigest());
    return new Node(s.sweepId(), s.createdAt(), s.reference(), s.recommendation() == null ? null : s.recommendation().variant(),
        s.provenance(), digests);
  }

  private static Edge edge(SweepSummary a, SweepSummary b, Options o) {
    var cells = new ArrayList<Cell>();
    var skipped = new LinkedHashMap<String, String>();
    for (Variant va : a.variants()) {
      Variant vb = b.variant(va.name());
      if (vb == null) {
        skipped.put(va.name(), "not in " + b.sweepId());
        continue;
      }
      String note = noValidRuns(va, a, vb, b);
      if (note != null && !o.includeInvalid()) {
        skipped.put(va.name(), note);
        continue;
      }
      for (KpiMetric m : METRICS) {
        OptionalDouble x = m.raw(va);
        OptionalDouble y = m.raw(vb);
        if (x.isPresent() && y.isPresent()) cells.add(cell(a, b, va.name(), m, x.getAsDouble(), y.getAsDouble(), o, note));
      }
    }
    for (Variant vb : b.variants()) {
      if (a.variant(vb.name()) == null) skipped.put(vb.name(), "not in " + a.sweepId());
    }
    var tallies = new LinkedHashMap<String, Tally>();
    for (KpiMetric m : METRICS) tallies.put(m.key(), tally(cells, m.key()));
    return new Edge(a.sweepId(), b.sweepId(), tallies, List.copyOf(cells), skipped, differences(a.provenance(), b.provenance()));
  }

  private static String noValidRuns(Variant va, SweepSummary a, Variant vb, SweepSummary b) {
    if (va.runsValid() == 0 && vb.runsValid() == 0) return "no valid runs in either sweep";
    if (va.runsValid() == 0) return "no valid runs in " + a.sweepId();
    if (vb.runsValid() == 0) return "no valid runs in " + b.sweepId();
    return null;
  }

  static Cell cell(SweepSummary a, SweepSummary b, String variant, KpiMetric m, double x, double y, Options o, String note) {
    double rel = x == y ? 0 : x == 0 ? Math.copySign(Double.POSITIVE_INFINITY, y) : (y - x) / Math.abs(x);
    String outcome = rel == 0 || Math.abs(rel) < o.tieTolerance() ? TIE : (y > x) == m.higherIsBetter() ? WIN : LOSS;
    return new Cell(a.sweepId(), b.sweepId(), variant, m.key(), x, y, Double.isInfinite(rel) ? null : rel * 100, outcome, note);
  }

  private static Tally tally(List<Cell> cells, String metric) {
    int wins = 0;
    int losses = 0;
    int ties = 0;
    for (Cell c : cells) {
      if (!c.metric().equals(metric)) continue;
      switch (c.outcome()) {
        case WIN -> wins++;
        case LOSS -> losses++;
        default -> ties++;
      }
    }
    return new Tally(wins, losses, ties);
  }

  /** The k largest relative changes, largest first; a move away from 0 (no percentage) counts as largest. */
  private static List<Cell> top(List<Cell> cells, int k) {
    Comparator<Cell> bySize = Comparator.comparingDouble(c -> c.deltaPct() == null ? Double.POSITIVE_INFINITY : Math.abs(c.deltaPct()));
    // Stable sort: equal changes keep the sweep's variant order, then the metric order.
    return cells.stream().filter(c -> c.deltaPct() == null || c.deltaPct() != 0).sorted(bySize.reversed()).limit(k).toList();
  }

  /**
   * The provenance fields that make two sweeps unlike: another workload (preset prompts), another engine
   * build, another base model, another machine.
   */
  static List<Difference> differences(SweepSummary.Provenance a, SweepSummary.Provenance b) {
    var out = new ArrayList<Difference>();
    if (a == null || b == null) {
      if (a != b) out.add(new Difference("provenance", a == null ? null : "present", b == null ? null : "present"));
      return out;
    }
    differ(out, "preset.prompts_digest", a.preset() == null ? null : a.preset().promptsDigest(),
        b.preset() == null ? null : b.preset().promptsDigest());
    differ(out, "engine_digest", a.engineDigest(), b.engineDigest());
    differ(out, "base_model_digest", a.baseModelDigest(), b.baseModelDigest());
    Map<String, Object> ma = a.machine() == null ? Map.of() : a.machine();
    Map<String, Object> mb = b.machine() == null ? Map.of() : b.machine();
    var keys = new TreeSet<>(ma.keySet());
    keys.addAll(mb.keySet());
    for (String k : keys) differ(out, "machine." + k, text(ma.get(k)), text(mb.get(k)));
    return out;
  }

  private static void differ(List<Difference> out, String field, String a, String b) {
    if (!Objects.equals(a, b)) out.add(new Difference(field, a, b));
  }

  private static String text(Object o) {
    return o == null ? null : o.toString();
  }
}
