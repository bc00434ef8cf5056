package io.dalang.runtime.determinism;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.engine.Digests;
import io.dalang.runtime.determinism.DeterminismReport.AgainstEntry;
import io.dalang.runtime.determinism.DeterminismReport.Divergence;
import io.dalang.runtime.determinism.DeterminismReport.EntryResult;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalang determinism check}: starts a Dalang node of its own (fresh data dir, the generated demo
 * model unless {@code --model}), replays a seed corpus through the real HTTP API, streaming and not,
 * {@code --repeats} times, and compares every replay with the first byte for byte, and the determinism
 * signals of their run records. Prints a table, writes a JSON report, and with {@code --against} also
 * compares with a stored report: entries with the same signals must be identical, the others are
 * reported not comparable.
 *
 * <p>Exit codes: 0 every entry identical; 1 an entry diverged or failed (each named, with the token and
 * byte where); 2 a usage error, an unusable corpus or report, or a node that did not come up.
 */
@Command(name = "determinism", mixinStandardHelpOptions = true, description = "Determinism checks: same seed, temperature 0, same engine and model ⇒ the same bytes.",
    subcommands = DeterminismCommand.Check.class)
public final class DeterminismCommand {
  static final int PASSED = 0;
  static final int DIVERGED = 1;
  static final int UNUSABLE = 2;
  static final ObjectMapper JSON = Json.PRETTY; // also what request_sha256 is taken of: keep it indented
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = "Replay a seed corpus on a fresh node, streaming and not, and compare the streams byte for byte.")
  static final class Check implements Callable<Integer> {
    @Option(names = "--corpus", paramLabel = "FILE", description = "The seed corpus (default: ${DEFAULT-VALUE})")
    Path corpus = Corpus.DEFAULT;

    @Option(names = "--engine", defaultValue = "in-process", paramLabel = "in-process|llama-server",
        description = "The engine the node serves the model on (default: ${DEFAULT-VALUE})")
    String engine;

    @Option(names = "--repeats", defaultValue = "2", description = "Replays of each entry, each streaming and not (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--against", paramLabel = "FILE", description = "A stored report (a golden one) to compare with as well")
    Path against;

    @Option(names = "--out", paramLabel = "FILE", description = "Where the JSON report goes (default: <data-dir>/determinism/<engine>-<time>.json)")
    Path out;

    @Option(names = "--model", paramLabel = "FILE.gguf", description = "Serve this model instead of the generated demo model")
    Path model;

    @Option(names = "--data-dir", defaultValue = "data", description = "Where the report goes by default (default: ${DEFAULT-VALUE}); the node gets a fresh temp dir")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE", description = "HOCON overriding the node's defaults (engine source, demo slot, ...)")
    Path configFile;

    @Option(names = "--verbose", description = "Show the node's own logs")
    boolean verbose;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter stdout = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      String kind = switch (engine) {
        case "in-process", "llama-inprocess" -> "llama-inprocess";
        case "llama-server" -> "llama-server";
        default -> null;
      };
      Corpus c;
      DeterminismReport golden = null;
      try {
        if (kind == null) throw new IllegalArgumentException("--engine must be in-process or llama-server, not '" + engine + "'");
        if (repeats < 1) throw new IllegalArgumentException("--repeats must be at least 1");
        if (model != null && !Files.isRegularFile(model)) throw new IllegalArgumentException("no model file " + model);
        if (!Files.isRegularFile(corpus)) throw new IllegalArgumentException("no corpus file " + corpus);
        c = Corpus.load(corpus, JSON);
        if (against != null) golden = readReport(against);
      } catch (IllegalArgumentException | IOException e) {
        err.println("dalang determinism check: " + e.getMessage());
        return UNUSABLE;
      }
      if (!verbose) io.dalang.runtime.cli.QuietLogs.install(); // the node's logs: errors only; progress goes to stderr
      DeterminismReport report;
      try {
        report = replay(c, kind, err);
      } catch (IOException | IllegalStateException e) {
        err.println("dalang determinism check: " + e.getMessage());
        return UNUSABLE;
      }
      if (golden != null) {
        var a = DeterminismCheck.against(report, golden, against.toString());
        report = new DeterminismReport(report.schemaVersion(), report.createdAt(), report.engine(), report.repeats(), report.corpus(),
            report.entries(), a, report.passed() && a.count(DeterminismReport.DIVERGED) == 0);
      }
      Path file = out != null ? out : dataDir.resolve("determinism").resolve(kind + "-"
          + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + ".json");
      if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
      JSON.writeValue(file.toFile(), report);
      print(report, stdout);
      stdout.println("report: " + file);
      stdout.flush();
      for (String line : failures(report)) err.println("dalang determinism check: " + line);
      err.flush();
      return report.passed() ? PASSED : DIVERGED;
    }

    private DeterminismReport replay(Corpus c, String kind, PrintWriter err) throws Exception {
      Path work = Files.createTempDirectory("dalang-determinism-");
      try {
        Path data = work.resolve("data");
        var options = new ServeOptions(data, 0, null, 0, configFile, kind, "dlg-determinism-" + UUID.randomUUID());
        String modelId = DalangNode.config(options).getString("dalang.demo.model-id");
        if (model != null) {
          Files.createDirectories(data.resolve("models"));
          Files.copy(model, data.resolve("models").resolve(modelId + ".gguf"), StandardCopyOption.REPLACE_EXISTING);
        }
        err.printf("determinism: starting a node serving %s on %s%n", model != null ? model : "the generated demo model", kind);
        err.flush();
        try (DalangNode node = DalangNode.start(options, new PrintStream(OutputStream.nullOutputStream()))) {
          var replayer = new Replayer(JSON, URI.create("http://127.0.0.1:" + node.httpPort()), options.demoKey(), modelId);
          replayer.awaitReady(READY_TIMEOUT);
          var entries = new ArrayList<EntryResult>();
          for (Corpus.Entry e : c.entries()) {
            var replays = new ArrayList<Replayer.Replay>();
            for (int r = 0; r < repeats; r++) {
              replays.add(replayer.replay(e, true));
              replays.add(replayer.replay(e, false));
            }
            EntryResult result = DeterminismCheck.entry(e, Digests.sha256(JSON.writeValueAsString(e.body(null))), replays);
            err.printf("determinism: %s %s (%d replays, %d tokens)%n", e.id(), result.status(), replays.size(), result.tokens());
            err.flush();
            entries.add(result);
          }
          boolean passed = entries.stream().allMatch(r -> r.status().equals(DeterminismReport.IDENTICAL));
          return new DeterminismReport(DeterminismReport.SCHEMA_VERSION, Instant.now().toString(), kind, repeats, corpus.toString(),
              List.copyOf(entries), null, passed);
        }
      } finally {
        deleteTree(work);
      }
    }
  }

  static DeterminismReport readReport(Path file) throws IOException {
    if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no report file " + file);
    try {
      DeterminismReport r = JSON.readValue(file.toFile(), DeterminismReport.class);
      if (r == null || r.entries() == null) throw new IllegalArgumentException(file + " is not a determinism report (no 'entries')");
      return r;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException(file + " is not a determinism report: " + e.getOriginalMessage());
    }
  }

  /** The table: one row per entry, then the comparison with the stored report. */
  static void print(DeterminismReport r, PrintWriter out) {
    EntryResult first = r.entries().stream().filter(e -> e.signals() != null).findFirst().orElse(null);
    if (first != null) {
      var s = first.signals();
      out.printf("engine %s %s (sha256 %s), model sha256 %s; %d repeats, streaming and not%n", s.engine(), s.engineVersion(), shortDigest(s.engineDigest()),
          shortDigest(s.modelDigest()), r.repeats());
    }
    int w = Math.max(5, r.entries().stream().mapToInt(e -> e.id().length()).max().orElse(5));
    out.printf("%-" + w + "s  %6s  %6s  %5s  %s%n", "entry", "tokens", "bytes", "runs", "result");
    for (EntryResult e : r.entries()) {
      String result = e.status().equals(DeterminismReport.IDENTICAL) ? "identical"
          : e.status().toUpperCase(java.util.Locale.ROOT) + ": " + e.divergences().get(0).describe();
      out.printf("%-" + w + "s  %6d  %6d  %5d  %s%n", e.id(), e.tokens(), e.bytes(), e.runs(), result);
    }
    if (r.against() != null) {
      var a = r.against();
      out.printf("against %s: %d identical, %d diverged, %d not comparable%n", a.file(), a.count(DeterminismReport.IDENTICAL),
          a.count(DeterminismReport.DIVERGED), a.count(DeterminismReport.NOT_COMPARABLE));
      for (AgainstEntry e : a.entries()) {
        if (!e.status().equals(DeterminismReport.IDENTICAL)) out.printf("  %-" + w + "s  %s: %s%n", e.id(), e.status(), e.reason());
      }
    }
  }

  /** One line per entry that diverged or failed, naming where. */
  static List<String> failures(DeterminismReport r) {
    var lines = new ArrayList<String>();
    for (EntryResult e : r.entries()) {
      for (Divergence d : e.divergences()) lines.add("entry " + e.id() + " " + e.status() + ": " + d.describe());
    }
    if (r.against() != null) {
      for (AgainstEntry e : r.against().entries()) {
        if (e.status().equals(DeterminismReport.DIVERGED)) lines.add("entry " + e.id() + " diverged from " + r.against().file() + ": " + e.reason());
      }
    }
    return lines;
  }

  private static String shortDigest(String d) {
    return d == null ? "none" : d.substring(0, Math.min(12, d.length()));
  }

  private static void deleteTree(Path dir) {
    io.dalang.runtime.sweep.SweepCommand.deleteTree(dir); // a temp dir left behind is not worth failing the check for
  }
}
