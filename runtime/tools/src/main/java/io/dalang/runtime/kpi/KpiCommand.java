package io.dalang.runtime.kpi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.sweep.SummaryFiles;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalang kpi check}: gates a sweep summary on a KPI policy, e.g. in CI after {@code dalang sweep}.
 *
 * <p>Exit codes: 0 every SLO met, 1 one or more violated (each named), 2 the policy or the summary could not
 * be used (nothing was checked).
 */
@Command(name = "kpi", mixinStandardHelpOptions = true, description = "Check sweep summaries against KPI policies.",
    subcommands = {KpiCommand.Check.class})
public final class KpiCommand {
  static final int PASSED = 0;
  static final int VIOLATED = 1;
  static final int UNUSABLE = 2;

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = {"Check a sweep summary against a KPI policy: one PASS/FAIL line per SLO, with the figures.",
          "Figures come from valid runs only, also for a sweep run with --include-invalid.",
          "Exit 0 all SLOs met, 1 any violated, 2 unusable policy or summary."})
  static final class Check implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--policy", paramLabel = "FILE", description = "KPI policy (HOCON; default ${DEFAULT-VALUE})")
    Path policy = Path.of("config", "kpi", "default.conf");

    @Option(names = "--summary", paramLabel = "S.json", required = true, description = "Sweep summary written by `dalang sweep`")
    Path summary;

    @Option(names = "--json", description = "Print the result as one JSON object instead of lines")
    boolean json;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      KpiPolicy p;
      SweepSummary s;
      try {
        p = KpiPolicy.read(policy);
        s = SummaryFiles.read(summary);
      } catch (KpiPolicy.BadPolicy | SummaryFiles.UnusableSummary e) {
        err.println("dalang kpi check: " + e.getMessage());
        return UNUSABLE;
      }
      KpiCheck.Report report = KpiCheck.evaluate(p, s);
      if (json) {
        printJson(report, out);
      } else {
        printLines(report, out);
      }
      return report.passed() ? PASSED : VIOLATED;
    }

    private void printLines(KpiCheck.Report r, PrintWriter out) {
      out.printf("sweep %s, policy %s%n", r.sweepId(), policy);
      if (r.includeInvalid()) {
        out.println("note: this sweep's frontier view included invalid runs (--include-invalid); the KPI figures below are from valid runs only");
      }
      for (KpiCheck.SloResult slo : r.slos()) {
        out.printf("%s %s: %s%n", slo.passed() ? "PASS" : "FAIL", slo.name(), slo.detail());
      }
      var failed = r.slos().stream().filter(slo -> !slo.passed()).map(KpiCheck.SloResult::name).toList();
      out.println(failed.isEmpty() ? "all " + r.slos().size() + " SLOs met"
          : failed.size() + " of " + r.slos().size() + " SLOs violated: " + failed.stream().collect(Collectors.joining(", ")));
    }

    private void printJson(KpiCheck.Report r, PrintWriter out) {
      var m = Json.MAPPER.createObjectNode().put("policy", policy.toString()).put("summary", summary.toString());
      m.setAll((ObjectNode) Json.MAPPER.valueToTree(r));
      try {
        out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(m));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write the KPI report as JSON", e);
      }
    }
  }
}
