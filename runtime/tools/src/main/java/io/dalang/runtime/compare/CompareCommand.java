package io.dalang.runtime.compare;

import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.compare.ComparisonGraph.Cell;
import io.dalang.runtime.compare.ComparisonGraph.Edge;
import io.dalang.runtime.compare.ComparisonGraph.Node;
import io.dalang.runtime.compare.ComparisonGraph.Tally;
import io.dalang.runtime.compare.ComparisonGraph.TopDeltas;
import io.dalang.runtime.kpi.KpiCheck;
import io.dalang.runtime.kpi.KpiMetric;
import io.dalang.runtime.sweep.SummaryFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dalang compare A.json B.json ...}: compares sweep summaries pairwise (every earlier sweep against
 * every later one), prints the wins/losses/ties per metric, the largest changes from the first sweep and a
 * warning where two sweeps differ in workload, engine, base model or machine; exports it all as JSON and
 * CSV with provenance stamps.
 *
 * <p>Exit codes: 0 compared (warnings included), 2 a summary or an option could not be used, or an export
 * could not be written.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Compare sweep summaries: wins/losses/ties per metric for every ordered pair, top-k changes from the first,",
        "warnings where provenance differs. Exit 0 compared, 2 unusable input."})
public final class CompareCommand implements Callable<Integer> {
  static final int COMPARED = 0;
  static final int UNUSABLE = 2;

  @Spec CommandSpec spec;

  @Parameters(arity = "2..*", paramLabel = "S.json", description = "Sweep summaries, the baseline first")
  List<Path> summaries;

  @Option(names = "--top-k", paramLabel = "K", description = "Largest changes shown per later sweep (default ${DEFAULT-VALUE})")
  int topK = 5;

  @Option(names = "--tie-tolerance", paramLabel = "R", description = "Relative change under which a metric ties (default ${DEFAULT-VALUE} = 2%%)")
  double tieTolerance = 0.02;

  @Option(names = "--include-invalid", description = "Also compare variants without valid runs (their figures marked as such)")
  boolean includeInvalid;

  @Option(names = "--export-json", paramLabel = "FILE", description = "Write the comparison graph as JSON")
  Path exportJson;

  @Option(names = "--export-csv", paramLabel = "FILE", description = "Write one row per variant and metric of every pair as CSV")
  Path exportCsv;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!(tieTolerance >= 0) || topK < 0) {
      err.println("dalang compare: --tie-tolerance and --top-k must not be negative");
      return UNUSABLE;
    }
    var sweeps = new ArrayList<SweepSummary>();
    var ids = new HashSet<String>();
    try {
      for (Path p : summaries) {
        SweepSummary s = SummaryFiles.read(p);
        if (!ids.add(s.sweepId())) throw new SummaryFiles.UnusableSummary(p + ": sweep " + s.sweepId() + " is given twice");
        sweeps.add(s);
      }
    } catch (SummaryFiles.UnusableSummary e) {
      err.println("dalang compare: " + e.getMessage());
      return UNUSABLE;
    }
    ComparisonGraph g = Comparison.compare(sweeps, new Comparison.Options(tieTolerance, topK, includeInvalid));
    print(g, out);
    return export(g, out, err);
  }

  private int export(ComparisonGraph g, PrintWriter out, PrintWriter err) {
    Path at = null;
    try {
      if (exportJson != null) {
        at = exportJson;
        SummaryFiles.writeAtomically(exportJson, ComparisonExport.json(g));
        out.println("wrote " + exportJson);
      }
      if (exportCsv != null) {
        at = exportCsv;
        SummaryFiles.writeAtomically(exportCsv, ComparisonExport.csv(g));
        out.println("wrote " + exportCsv);
      }
      return COMPARED;
    } catch (IOException e) {
      err.println("dalang compare: cannot write " + at + ": " + e.getMessage());
      return UNUSABLE;
    }
  }

  private static void print(ComparisonGraph g, PrintWriter out) {
    out.printf("%d sweeps, tie tolerance %s%%%s; win/loss/tie is the later sweep's%n", g.nodes().size(),
        KpiCheck.number(g.tieTolerance() * 100), g.includeInvalid() ? ", variants without valid runs included (marked)" : "");
    var sweeps = new ArrayList<List<String>>();
    for (Node n : g.nodes()) sweeps.add(sweepRow(n));
    table(out, sweeps);

    var edges = new ArrayList<List<String>>();
    var head = new ArrayList<>(List.of("from", "to"));
    Comparison.METRICS.forEach(m -> head.add(m.key()));
    edges.add(head);
    for (Edge e : g.edges()) {
      var row = new ArrayList<>(List.of(e.from(), e.to()));
      for (KpiMetric m : Comparison.METRICS) {
        Tally t = e.tallies().get(m.key());
        row.add(t.wins() + "/" + t.losses() + "/" + t.ties());
      }
      edges.add(row);
    }
    out.println("wins/losses/ties:");
    table(out, edges);

    for (TopDeltas t : g.top()) {
      out.printf("top %d changes %s -> %s:%n", t.deltas().size(), t.from(), t.to());
      table(out, t.deltas().stream().map(CompareCommand::deltaRow).toList());
    }
    for (Edge e : g.edges()) {
      e.skipped().forEach((variant, why) -> out.printf("skipped %s -> %s: %s (%s)%n", e.from(), e.to(), variant, why));
      if (!e.provenanceDifferences().isEmpty()) out.println("warning: " + ComparisonExport.unlike(e));
    }
  }

  private static List<String> sweepRow(Node n) {
    var p = n.provenance();
    return List.of(n.sweepId(), String.valueOf(n.createdAt()),
        "preset " + (p == null || p.preset() == null ? "?" : p.preset().name()),
        "engine " + (p == null ? "?" : p.engineKind() + " " + p.engineVersion()),
        "commit " + (p == null ? "?" : p.dalangCommit()),
        "recommends " + (n.recommendation() == null ? "none" : n.recommendation()));
  }

  private static List<String> deltaRow(Cell c) {
    String delta = c.deltaPct() == null ? "from 0" : (c.deltaPct() > 0 ? "+" : "") + KpiCheck.number(c.deltaPct()) + "%";
    return List.of(c.variant(), c.metric(), KpiCheck.number(c.fromValue()) + " -> " + KpiCheck.number(c.toValue()), delta,
        c.outcome() + (c.note() == null ? "" : " (" + c.note() + ")"));
  }

  /** Rows as left-aligned columns two spaces apart, indented by two. */
  private static void table(PrintWriter out, List<List<String>> rows) {
    var widths = new ArrayList<Integer>();
    for (List<String> r : rows) {
      for (int i = 0; i < r.size(); i++) {
        if (widths.size() <= i) widths.add(0);
        widths.set(i, Math.max(widths.get(i), r.get(i).length()));
      }
    }
    for (List<String> r : rows) {
      var cells = new ArrayList<String>();
      for (int i = 0; i < r.size(); i++) cells.add(String.format("%-" + widths.get(i) + "s", r.get(i)));
      out.println(("  " + String.join("  ", cells)).stripTrailing());
    }
  }
}
