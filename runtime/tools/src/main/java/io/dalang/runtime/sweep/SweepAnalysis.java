package io.dalang.runtime.sweep;

import io.dalang.protocols.sweep.SweepSummary.PromptResult;
import io.dalang.protocols.sweep.SweepSummary.Recommendation;
import io.dalang.protocols.sweep.SweepSummary.Variant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the runs a sweep observed into its figures: adherence to the reference, throughput, the
 * frontier and the recommendation. Pure, so every rule here is tested without an engine.
 *
 * <p>Valid-run policy: a variant's figures (the ones KPI gates read) come from valid runs only, always.
 * The recommendation uses valid runs only. {@code includeInvalid} lets invalid runs into the frontier
 * view alone: a variant with no valid run can then appear on the frontier (its throughput from the
 * invalid runs), but never becomes the recommendation.
 */
public final class SweepAnalysis {
  private SweepAnalysis() {}

  /**
   * One generation of one prompt against one variant.
   *
   * @param pieces the content pieces streamed, one per token
   * @param tokensPerSecond generation speed from the engine's own timings
   * @param reasons why the run does not count (empty when valid): the run record's quality reasons,
   *     plus {@code failed:<code>}, {@code truncated_stream} and {@code no_run_record} from the sweep's own view
   */
  public record Observation(String promptId, int repeat, List<String> pieces, double tokensPerSecond, double ttftMs, List<String> reasons) {
    public boolean valid() {
      return reasons.isEmpty();
    }
  }

  /** Everything measured for one variant. */
  public record Measured(String name, String modelPath, String modelDigest, long fileBytes, Map<String, Integer> tensorTypes,
      boolean isReference, List<Observation> runs) {}

  /** The variants' figures, the frontier and the recommendation; {@code measured} lists the reference first. */
  public static Result analyse(List<Measured> measured, List<String> promptIds, double adherenceFloor, boolean includeInvalid) {
    Measured ref = measured.stream().filter(Measured::isReference).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no reference variant"));
    Map<String, List<String>> refPieces = firstValid(ref, promptIds);
    var variants = new ArrayList<Variant>();
    var frontierPoints = new LinkedHashMap<String, double[]>();
    for (Measured m : measured) {
      Variant v = variant(m, promptIds, refPieces);
      variants.add(v);
      if (v.runsValid() > 0) {
        frontierPoints.put(v.name(), new double[] {v.tokensPerSecond(), v.adherence()});
      } else if (includeInvalid && !m.runs().isEmpty()) {
        double tps = m.runs().stream().mapToDouble(Observation::tokensPerSecond).average().orElse(0);
        frontierPoints.put(v.name(), new double[] {tps, adherenceOverAll(m, promptIds, refPieces)});
      }
    }
    return new Result(variants, frontier(frontierPoints), recommend(variants, adherenceFloor));
  }

  /** The figures, plus the points the frontier was drawn from. */
  public record Result(List<Variant> variants, List<String> frontier, Recommendation recommendation) {}

  static Variant variant(Measured m, List<String> promptIds, Map<String, List<String>> refPieces) {
    var valid = m.runs().stream().filter(Observation::valid).toList();
    var invalidReasons = new TreeMap<String, Integer>();
    for (Observation o : m.runs()) for (String r : o.reasons()) invalidReasons.merge(r, 1, Integer::sum);
    var prompts = new ArrayList<PromptResult>();
    double agreementSum = 0;
    double divergenceSum = 0;
    int compared = 0;
    int exact = 0;
    for (String id : promptIds) {
      var runs = m.runs().stream().filter(o -> o.promptId().equals(id)).toList();
      var first = runs.stream().filter(Observation::valid).findFirst();
      List<String> ref = refPieces.get(id);
      double tps = runs.stream().filter(Observation::valid).mapToDouble(Observation::tokensPerSecond).average().orElse(0);
      if (first.isEmpty() || ref == null) {
        var reasons = runs.stream().flatMap(o -> o.reasons().stream()).distinct().toList();
        prompts.add(new PromptResult(id, 0, -1, 0, tps, false,
            ref == null && first.isPresent() ? List.of("reference_missing") : reasons.isEmpty() ? List.of("no_runs") : reasons));
        continue;
      }
      List<String> mine = first.get().pieces();
      int divergence = firstDivergence(ref, mine);
      double agreement = agreement(ref, mine);
      var notes = new ArrayList<String>();
      if (runs.stream().filter(Observation::valid).map(Observation::pieces).distinct().count() > 1) notes.add("nondeterministic");
      prompts.add(new PromptResult(id, mine.size(), divergence, agreement, tps, true, notes));
      agreementSum += agreement;
      divergenceSum += divergence < 0 ? mine.size() : divergence;
      if (divergence < 0) exact++;
      compared++;
    }
    double[] tps = valid.stream().mapToDouble(Observation::tokensPerSecond).sorted().toArray();
    double[] ttft = valid.stream().mapToDouble(Observation::ttftMs).sorted().toArray();
    return new Variant(m.name(), m.modelPath(), m.modelDigest(), m.fileBytes(), m.tensorTypes(), m.isReference(), m.runs().size(),
        valid.size(), invalidReasons, mean(tps), percentile(tps, 50), percentile(ttft, 50), percentile(ttft, 95),
        compared == 0 ? 0 : agreementSum / compared, compared == 0 ? 0 : divergenceSum / compared, exact, prompts);
  }

  private static Map<String, List<String>> firstValid(Measured m, List<String> promptIds) {
    var out = new LinkedHashMap<String, List<String>>();
    for (String id : promptIds) {
      m.runs().stream().filter(o -> o.promptId().equals(id) && o.valid()).findFirst().ifPresent(o -> out.put(id, o.pieces()));
    }
    return out;
  }

  private static double adherenceOverAll(Measured m, List<String> promptIds, Map<String, List<String>> refPieces) {
    double sum = 0;
    int n = 0;
    for (String id : promptIds) {
      var ref = refPieces.get(id);
      var run = m.runs().stream().filter(o -> o.promptId().equals(id) && !o.reasons().contains("warmup")).findFirst();
      if (ref == null || run.isEmpty()) continue;
      sum += agreement(ref, run.get().pieces());
      n++;
    }
    return n == 0 ? 0 : sum / n;
  }

  /** The first token position where {@code b} differs from {@code a}; -1 when they are equal. */
  public static int firstDivergence(List<String> a, List<String> b) {
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) if (!a.get(i).equals(b.get(i))) return i;
    return a.size() == b.size() ? -1 : n;
  }

  /**
   * Greedy token agreement: the fraction of token positions (of the longer of the two streams) at
   * which {@code b} has the reference's token; a position only one stream reaches disagrees. 1.0 for
   * an identical stream; an empty reference agrees only with an empty stream.
   */
  public static double agreement(List<String> ref, List<String> b) {
    if (ref.isEmpty()) return b.isEmpty() ? 1 : 0;
    int same = 0;
    for (int i = 0; i < Math.min(ref.size(), b.size()); i++) if (ref.get(i).equals(b.get(i))) same++;
    return (double) same / Math.max(ref.size(), b.size());
  }

  /**
   * Names on the Pareto frontier of (throughput, adherence), fastest first: a point is on it when no
   * other point is at least as good on both and better on one.
   */
  public static List<String> frontier(Map<String, double[]> points) {
    var out = new ArrayList<String>();
    for (var e : points.entrySet()) {
      double[] p = e.getValue();
      boolean dominated = points.values().stream().anyMatch(q -> q != p && q[0] >= p[0] && q[1] >= p[1] && (q[0] > p[0] || q[1] > p[1]));
      if (!dominated) out.add(e.getKey());
    }
    out.sort(Comparator.comparingDouble((String n) -> -points.get(n)[0]).thenComparing(Comparator.naturalOrder()));
    return out;
  }

  /**
   * The fastest variant, by its valid runs' mean tokens/s, whose adherence reaches the floor; ties go
   * to the higher adherence, then the smaller file. Every other variant is listed with why not.
   */
  public static Recommendation recommend(List<Variant> variants, double floor) {
    var excluded = new LinkedHashMap<String, String>();
    Variant best = null;
    for (Variant v : variants) {
      if (v.runsValid() == 0) {
        excluded.put(v.name(), "no valid runs (" + v.invalidReasons() + ")");
      } else if (v.adherence() < floor) {
        excluded.put(v.name(), String.format(java.util.Locale.ROOT, "adherence %.3f under the floor %.2f", v.adherence(), floor));
      } else if (best == null || better(v, best)) {
        best = v;
      }
    }
    for (Variant v : variants) {
      if (best != null && v != best && !excluded.containsKey(v.name())) {
        excluded.put(v.name(), String.format(java.util.Locale.ROOT, "slower: %.1f tokens/s against %.1f", v.tokensPerSecond(), best.tokensPerSecond()));
      }
    }
    String reason = best == null ? "no variant with valid runs reaches adherence " + floor
        : String.format(java.util.Locale.ROOT, "fastest variant at or over adherence %.2f: %.1f tokens/s, adherence %.3f", floor,
            best.tokensPerSecond(), best.adherence());
    return new Recommendation(best == null ? null : best.name(), floor, reason, excluded);
  }

  private static boolean better(Variant a, Variant b) {
    if (a.tokensPerSecond() != b.tokensPerSecond()) return a.tokensPerSecond() > b.tokensPerSecond();
    if (a.adherence() != b.adherence()) return a.adherence() > b.adherence();
    return a.fileBytes() < b.fileBytes();
  }

  static double mean(double[] xs) {
    double s = 0;
    for (double x : xs) s += x;
    return xs.length == 0 ? 0 : s / xs.length;
  }

  /** Nearest-rank percentile of sorted values; 0 for none. */
  static double percentile(double[] sorted, double p) {
    if (sorted.length == 0) return 0;
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
