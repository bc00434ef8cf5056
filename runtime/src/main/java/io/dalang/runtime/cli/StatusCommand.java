package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang status}: what a data dir holds, read straight from its journal and run log. Works while
 * {@code dalang serve} runs on the same data dir: the embedded H2 database is opened in automatic mixed
 * mode, so this process connects through the serving process instead of fighting it for the file.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the entities in a data dir's journal and its most recent runs (also while serve runs).")
public final class StatusCommand implements Callable<Integer> {

  @Option(names = "--data-dir", description = "Data dir to read (default $DALANG_DATA_DIR or ./data)")
  Path dataDir = Path.of(System.getenv().getOrDefault("DALANG_DATA_DIR", "data"));

  @Option(names = "--runs", description = "How many recent runs to show (default 5)")
  int runs = 5;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(dataDir.resolve("db"))) {
      System.err.println("dalang status: " + dataDir + " holds no Dalang journal (no db/ folder); start `dalang serve --data-dir " + dataDir + "` first");
      return 2;
    }
    var config = DalangNode.config(ServeOptions.forDataDir(dataDir));
    var db = config.getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
    var counts = new TreeMap<String, long[]>();
    try (var conn = DriverManager.getConnection(db.getString("url"), db.getString("user"), db.getString("password"));
         var st = conn.createStatement();
         var rs = st.executeQuery("SELECT \"persistence_id\", COUNT(*) FROM PUBLIC.\"event_journal\" GROUP BY \"persistence_id\"")) {
      while (rs.next()) {
        String pid = rs.getString(1);
        String type = pid.contains("|") ? pid.substring(0, pid.indexOf('|')) : pid;
        long[] c = counts.computeIfAbsent(type, k -> new long[2]);
        c[0]++;
        c[1] += rs.getLong(2);
      }
    } catch (SQLException e) {
      System.err.println("dalang status: cannot open the journal in " + dataDir.resolve("db") + ": " + e.getMessage().lines().findFirst().orElse("")
          + "\n(another process may hold the database without automatic mixed mode; see docs/operations.md)");
      return 1;
    }
    Path nodeId = dataDir.resolve("node.id");
    System.out.println("data dir " + dataDir.toAbsolutePath().normalize()
        + (Files.isRegularFile(nodeId) ? " (node " + Files.readString(nodeId).strip() + ")" : ""));
    System.out.println("journal:");
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      System.out.printf("  %-10s %5d entities %7d events%n", e.getKey(), e.getValue()[0], e.getValue()[1]);
    }
    printRuns(dataDir.resolve("runs").resolve("runs.jsonl"));
    return 0;
  }

  private void printRuns(Path file) throws Exception {
    if (!Files.isRegularFile(file)) {
      System.out.println("runs: none recorded yet");
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
    System.out.println("runs: " + total + " recorded; latest:");
    var json = new ObjectMapper();
    for (String line : last) {
      JsonNode r = json.readTree(line);
      System.out.printf("  %s %-12s %-8s %-16s ttft %7.1f ms  %7.1f tok/s  overhead %.3f%n", r.path("run_id").asText(),
          r.path("model").asText(), r.path("tenant").asText(), r.path("outcome").asText(), r.path("ttft_ms").asDouble(),
          r.path("tokens_per_second").asDouble(), r.path("orchestration_overhead_ratio").asDouble());
    }
  }
}
