package io.dalang.runtime.compare;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.compare.ComparisonGraph.Cell;
import io.dalang.runtime.compare.ComparisonGraph.Edge;
import io.dalang.runtime.compare.ComparisonGraph.Node;
import io.dalang.runtime.http.Json;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A {@link ComparisonGraph} as files: JSON (the graph as is, provenance included) and CSV (one row per
 * variant and metric of every edge, after {@code # } comment lines carrying each sweep's provenance stamps
 * and the unlike-with-unlike warnings, so a CSV read on its own still says what it compares).
 */
public final class ComparisonExport {
  static final List<String> CSV_COLUMNS =
      List.of("from", "to", "variant", "metric", "from_value", "to_value", "delta_pct", "outcome", "note");

  private ComparisonExport() {}

  public static byte[] json(ComparisonGraph g) {
    try {
      return Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(g);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the comparison as JSON", e);
    }
  }

  public static byte[] csv(ComparisonGraph g) {
    var b = new StringBuilder();
    comment(b, "dalang compare: " + g.nodes().size() + " sweeps, tie_tolerance " + plain(g.tieTolerance())
        + ", include_invalid " + g.includeInvalid() + "; outcome is the later sweep's (win: it did better)");
    for (Node n : g.nodes()) comment(b, "sweep " + n.sweepId() + ": " + stamp(n));
    for (Edge e : g.edges()) {
      if (!e.provenanceDifferences().isEmpty()) comment(b, "warning: " + unlike(e));
    }
    row(b, CSV_COLUMNS);
    for (Edge e : g.edges()) {
      for (Cell c : e.cells()) {
        row(b, List.of(c.from(), c.to(), c.variant(), c.metric(), plain(c.fromValue()), plain(c.toValue()),
            c.deltaPct() == null ? "" : BigDecimal.valueOf(c.deltaPct()).setScale(4, RoundingMode.HALF_UP).stripTrailingZeros().toPlainString(),
            c.outcome(), c.note() == null ? "" : c.note()));
      }
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** A sweep's provenance on one line: build, engine, workload, models, machine. */
  static String stamp(Node n) {
    var f = new ArrayList<String>();
    f.add("created_at=" + n.createdAt());
    SweepSummary.Provenance p = n.provenance();
    if (p != null) {
      f.add("dalang_version=" + p.dalangVersion());
      f.add("dalang_commit=" + p.dalangCommit());
      f.add("engine=" + p.engineKind() + " " + p.engineVersion());
      f.add("engine_digest=" + p.engineDigest());
      f.add("quantize_digest=" + p.quantizeDigest());
      if (p.preset() != null) {
        f.add("preset=" + p.preset().name());
        f.add("prompts_digest=" + p.preset().promptsDigest());
      }
      f.add("base_model=" + p.baseModel());
      f.add("base_model_digest=" + p.baseModelDigest());
      f.add("machine=" + p.machine());
    }
    f.add("model_digests=" + n.modelDigests().entrySet().stream().map(e -> e.getKey() + ":" + e.getValue())
        .collect(Collectors.joining(";")));
    return String.join(", ", f);
  }

  /** The warning for an edge whose sweeps differ in provenance. */
  static String unlike(Edge e) {
    return e.from() + " -> " + e.to() + " compares unlike with unlike: " + e.provenanceDifferences().stream()
        .map(d -> d.field() + " " + d.from() + " -> " + d.to()).collect(Collectors.joining("; "));
  }

  private static void comment(StringBuilder b, String text) {
    // One line whatever the stamps hold: a line break would end the comment and start a data row.
    b.append("# ").append(text.replaceAll("[\r\n]+", " ")).append("\r\n");
  }

  private static void row(StringBuilder b, List<String> fields) {
    b.append(fields.stream().map(ComparisonExport::field).collect(Collectors.joining(","))).append("\r\n");
  }

  /** One RFC 4180 field: quoted (quotes doubled) if it holds a comma, a quote, CR or LF. */
  private static String field(String s) {
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\r') < 0 && s.indexOf('\n') < 0) return s;
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  static String plain(double x) {
    return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
  }
}
