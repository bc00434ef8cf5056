package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.admin.JournalCounts;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.EmbeddedJournal;
import io.dalang.runtime.serve.ServeOptions;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalang status}: what a data dir holds, from its journal and run log. While no node runs on the
 * data dir the journal file is opened read-only; while {@code dalang serve} holds it, the counts come
 * from the node's admin API ({@link RunningNode}).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the entities in a data dir's journal and its most recent runs (also while serve runs).")
public final class StatusCommand implements Callable<Integer> {

  @Option(names = "--data-dir", description = "Data dir to read (default $DALANG_DATA_DIR or ./data)")
  Path dataDir = Path.of(System.getenv().getOrDefault("DALANG_DATA_DIR", "data"));

  @Option(names = "--runs", description = "How many recent runs to show (default 5)")
  int runs = 5;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!Files.isDirectory(dataDir.resolve("db"))) {
      err.println("dalang status: " + dataDir + " holds no Dalang journal (no db/ folder); start `dalang serve --data-dir " + dataDir + "` first");
      return 2;
    }
    var config = EmbeddedJournal.forReader(DalangNode.config(ServeOptions.forDataDir(dataDir)));
    List<JournalCounts> counts;
    String via = "";
    try (var conn = EmbeddedJournal.connect(config)) {
      counts = JournalCounts.read(conn);
    } catch (SQLException e) {
      if (!EmbeddedJournal.heldByAnotherProcess(e)) {
        err.println("dalang status: cannot open the journal in " + dataDir.resolve("db") + ": " + e.getMessage().lines().findFirst().orElse(""));
        return 1;
      }
      try {
        counts = List.of(Json.MAPPER.treeToValue(RunningNode.get(dataDir, "/admin/v1/journal").path("types"), JournalCounts[].class));
        via = " (read through the running node)";
      } catch (RunningNode.Unreachable u) {
        err.println("dalang status: " + u.getMessage());
        return 1;
      }
    }
    Path nodeId = dataDir.resolve("node.id");
    out.println("data dir " + dataDir.toAbsolutePath().normalize()
        + (Files.isRegularFile(nodeId) ? " (node " + Files.readString(nodeId).strip() + ")" : ""));
    out.println("journal" + via + ":");
    for (JournalCounts c : counts) out.printf("  %-10s %5d entities %7d events%n", c.type(), c.entities(), c.events());
    printRuns(dataDir.resolve("runs").resolve("runs.jsonl"), out);
    return 0;
  }

  private void printRuns(Path file, PrintWriter out) throws Exception {
    if (!Files.isRegularFile(file)) {
      out.println("runs: none recorded yet");
      return;
    }
    var last = new ArrayDeque<String>();
    long total = 0;
    try (var lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line; (line = lines.readLine()) != null; total++) {
        last.addLast(line);
        if (last.size() > runs) last.removeFirst();
      }
    }
    out.println("runs: " + total + " recorded; latest:");
    var json = Json.MAPPER;
    for (String line : last) {
      JsonNode r = json.readTree(line);
      out.printf("  %s %-12s %-8s %-16s ttft %7.1f ms  %7.1f tok/s  overhead %.3f%n", r.path("run_id").asText(),
          r.path("model").asText(), r.path("tenant").asText(), r.path("outcome").asText(), r.path("ttft_ms").asDouble(),
          r.path("tokens_per_second").asDouble(), r.path("orchestration_overhead_ratio").asDouble());
    }
  }
}
