package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalang pool list | rollout start|status|pause|resume|abort}: a running node's pools and their
 * rollouts to other catalog versions, through its admin API ({@code /admin/v1/pools}). Changes need a
 * platform-admin key; reading, an operator's.
 */
@Command(name = "pool", mixinStandardHelpOptions = true, description = "Pools of a running node, and their rollouts.",
    subcommands = {PoolCommand.List.class, PoolCommand.Split.class, PoolCommand.Rollout.class})
public final class PoolCommand {

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Every pool: its model, replicas by state, and its rollout.")
  static final class List extends AdminCall {
    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      JsonNode pools = send("GET", "/admin/v1/pools").path("pools");
      out.printf("%-20s  %-28s  %-16s  %-8s  %s%n", "POOL", "MODEL", "ENGINE", "READY", "ROLLOUT");
      for (JsonNode p : pools) {
        int ready = 0;
        for (JsonNode s : p.path("slots")) if (s.path("state").asText().equals("Ready")) ready++;
        String model = p.path("model").isTextual() ? p.path("model").asText() : p.path("model_id").asText() + " (model_path)";
        JsonNode r = p.path("rollout");
        String rollout = r.isObject() ? r.path("target").asText() + " " + r.path("phase").asText() : "-";
        out.printf("%-20s  %-28s  %-16s  %-8s  %s%n", p.path("id").asText(), model, p.path("engine").asText(),
            ready + "/" + p.path("replicas").asInt(), rollout);
      }
      out.println(AuditCommand.plural(pools.size(), "pool"));
      return OK;
    }
  }

  @Command(name = "rollout", mixinStandardHelpOptions = true,
      description = {"Move a pool to another catalog version without downtime, and follow or steer the move.",
          "New replicas start beside the old ones, must pass readiness and a health gate on their first runs, then replace",
          "the old ones one at a time; a failed gate or a crash loop rolls back on its own. Every step is audited."},
      subcommands = {Start.class, Status.class, Pause.class, Resume.class, Abort.class, Promote.class})
  static final class Rollout {}

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Start a rollout of POOL to --model NAME@VERSION.")
  static final class Start extends AdminCall {
    @Parameters(paramLabel = "POOL")
    String pool;

    @Option(names = "--model", required = true, paramLabel = "NAME@VERSION", description = "The catalog version to move to")
    String model;

    @Option(names = "--strategy", description = "rolling (one new replica at a time; the default) or blue-green (a whole second set)")
    String strategy;

    @Option(names = "--max-surge", description = "New replicas beyond the pool's count at once (rolling; default 1)")
    Integer maxSurge;

    @Option(names = "--max-unavailable", description = "Replicas that may be missing while old ones go (default 0)")
    Integer maxUnavailable;

    @Option(names = "--min-runs", description = "Runs the canary must serve before the gate judges it (default 10)")
    Integer minRuns;

    @Option(names = "--gate-timeout", paramLabel = "SECONDS", description = "How long the canary has to be Ready and serve its runs (default 300)")
    Long gateTimeout;

    @Option(names = "--max-error-rate", description = "Highest error rate of the canary's runs (default 0.05)")
    Double maxErrorRate;

    @Option(names = "--wait", description = "Follow the rollout until it is done or rolled back")
    boolean await;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      var body = new LinkedHashMap<String, Object>();
      body.put("model", model);
      if (strategy != null) body.put("strategy", strategy);
      if (maxSurge != null) body.put("max_surge", maxSurge);
      if (maxUnavailable != null) body.put("max_unavailable", maxUnavailable);
      var gate = new LinkedHashMap<String, Object>();
      if (minRuns != null) gate.put("min_runs", minRuns);
      if (gateTimeout != null) gate.put("timeout_seconds", gateTimeout);
      if (maxErrorRate != null) gate.put("max_error_rate", maxErrorRate);
      if (!gate.isEmpty()) body.put("health_gate", gate);
      JsonNode p = send("PATCH", "/admin/v1/pools/" + enc(pool), body);
      print(out, p.path("rollout"));
      if (!await) return OK;
      String last = p.path("rollout").path("phase").asText();
      while (true) {
        Thread.sleep(1000);
        JsonNode r = send("GET", "/admin/v1/pools/" + enc(pool) + "/rollout");
        String phase = r.path("phase").asText();
        if (!phase.equals(last)) print(out, r);
        last = phase;
        if (phase.equals("done")) return OK;
        if (phase.equals("rolled-back")) return REFUSED;
      }
    }
  }

  static void print(PrintWriter out, JsonNode r) {
    out.printf("%s  %-12s old %d new %d  %s%n", r.path("target").asText(), r.path("phase").asText(), r.path("replicas_old").asInt(),
        r.path("replicas_new").asInt(), r.path("note").asText());
    out.flush();
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "The pool's rollout under way, or its last one, as JSON.")
  static final class Status extends AdminCall {
    @Parameters(paramLabel = "POOL")
    String pool;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(send("GET", "/admin/v1/pools/" + enc(pool) + "/rollout")));
      return OK;
    }
  }

  /** {@code pause}, {@code resume}, {@code abort}, {@code promote}: one POST each, to the action the command is named after. */
  abstract static class Action extends AdminCall {
    @Parameters(paramLabel = "POOL")
    String pool;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      print(out, send("POST", "/admin/v1/pools/" + enc(pool) + "/rollout/" + spec.name()));
      return OK;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Hold the rollout where it is: no replica is added or retired.")
  static final class Pause extends Action {}

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Go on from where the rollout was paused.")
  static final class Resume extends Action {}

  @Command(name = "split", mixinStandardHelpOptions = true,
      description = {"Serve a second version of the pool's model beside its own: PERCENT of the runs go to it (an A/B split).",
          "`pool rollout promote POOL` then rolls the pool to it; `pool rollout abort POOL` ends the split."})
  static final class Split extends AdminCall {
    @Parameters(index = "0", paramLabel = "POOL")
    String pool;

    @Option(names = "--to", required = true, paramLabel = "VERSION", description = "The other version of the pool's model (v2, or name@v2)")
    String to;

    @Option(names = "--percent", required = true, description = "Share of the runs for --to, 1 to 99")
    int percent;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      JsonNode current = send("GET", "/admin/v1/pools/" + enc(pool));
      String model = current.path("model").asText("");
      if (!model.contains("@")) throw new Usage("pool " + pool + " does not serve a catalog version");
      var split = new LinkedHashMap<String, Object>();
      split.put(model.substring(model.indexOf('@') + 1), 100 - percent);
      split.put(to.contains("@") ? to.substring(to.indexOf('@') + 1) : to, percent);
      print(out, send("PATCH", "/admin/v1/pools/" + enc(pool), java.util.Map.of("split", split)).path("rollout"));
      return OK;
    }
  }

  @Command(name = "promote", mixinStandardHelpOptions = true, description = "End an A/B split by rolling the pool to its new version.")
  static final class Promote extends Action {}

  @Command(name = "abort", mixinStandardHelpOptions = true, description = "Roll back: the new replicas drain and go, the old ones come back to count.")
  static final class Abort extends Action {}
}
