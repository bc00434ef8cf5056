package io.dalang.runtime.sweep;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import io.dalang.engine.quantize.LlamaQuantize;
import io.dalang.gpu.GpuProbe;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.baseline.BaselineSettings;
import io.dalang.runtime.baseline.BaselineStore;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang sweep}: quantizes a base model into variants with llama.cpp's {@code llama-quantize},
 * serves each from a live slot, runs a preset's prompts and writes a summary (JSON), a frontier plot
 * (SVG and PNG) and a recommendation: the fastest variant over an adherence floor, from valid runs only.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
    description = "Quantization sweep: make variants of a model, measure throughput and adherence to the full-precision reference, recommend one.")
public final class SweepCommand implements Callable<Integer> {
  static final ObjectMapper JSON = Json.PRETTY;

  @Option(names = "--model", required = true, paramLabel = "BASE.gguf", description = "The full-precision base model (F32, F16 or BF16)")
  Path model;

  @Option(names = "--quants", split = ",", defaultValue = "Q8_0,Q5_K_M,Q4_K_M", paramLabel = "TYPE[,TYPE...]",
      description = "llama-quantize types to make and measure (default: ${DEFAULT-VALUE})")
  List<String> quants;

  @Option(names = "--preset", defaultValue = "mixed", description = "logic_only, refactor_heavy, mixed, or a preset file (default: ${DEFAULT-VALUE})")
  String preset;

  @Option(names = "--adherence-floor", defaultValue = "0.9", description = "Least adherence a recommended variant needs (default: ${DEFAULT-VALUE})")
  double floor;

  @Option(names = "--include-invalid", description = "Let invalid runs into the frontier view (never into the variant figures, KPI gates or the recommendation)")
  boolean includeInvalid;

  @Option(names = "--out", paramLabel = "DIR", description = "Where the summary, plots and variants go (default: <data-dir>/sweeps/<sweep id>)")
  Path out;

  @Option(names = "--data-dir", defaultValue = "data", description = "Data dir: default output place and the baseline store (default: ${DEFAULT-VALUE})")
  Path dataDir;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON overriding the defaults (engine source, cache dir, ...)")
  Path configFile;

  @Option(names = "--no-baseline", description = "Do not record the summary in the baseline store")
  boolean noBaseline;

  @Option(names = "--add-to-catalog", paramLabel = "NAME",
      description = "Add the variants as versions of catalog model NAME on a running node (--url, --key), with their lineage and measures as labels")
  String catalogName;

  @Option(names = "--url", description = "With --add-to-catalog: the node's HTTP address (default $DALANG_URL or http://127.0.0.1:8080)")
  String nodeUrl = System.getenv().getOrDefault("DALANG_URL", "http://127.0.0.1:8080");

  @Option(names = "--key", description = "With --add-to-catalog: a platform-admin key (default $DALANG_ADMIN_KEY, else <data-dir>/admin.key)")
  String adminKey;

  @Option(names = "--verbose", description = "Show the nodes' own logs")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    PrintStream err = System.err;
    if (!Files.isRegularFile(model)) {
      err.println("dalang sweep: no model file " + model);
      return 2;
    }
    if (floor < 0 || floor > 1) {
      err.println("dalang sweep: --adherence-floor must be between 0 and 1");
      return 2;
    }
    SweepPreset p;
    try {
      p = SweepPreset.load(preset);
    } catch (IllegalArgumentException e) {
      err.println("dalang sweep: " + e.getMessage());
      return 2;
    }
    if (!verbose) io.dalang.runtime.cli.QuietLogs.install(); // the variants' nodes: errors only; progress goes to stderr
    String sweepId = "sweep-" + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + "-"
        + UUID.randomUUID().toString().substring(0, 6);
    Path dir = out != null ? out : dataDir.resolve("sweeps").resolve(sweepId);
    Files.createDirectories(dir);
    var config = DalangNode.config(new ServeOptions(dataDir, null, null, null, configFile, null, null));
    String cache = config.getString("dalang.engine.cache-dir");
    var provisioner = new EngineProvisioner(EngineProvisioner.cacheRoot(cache), m -> err.println("sweep: " + m));
    err.println("sweep: " + sweepId + ": ensuring llama-server and llama-quantize (built once, then cached)");
    var entry = provisioner.ensureLlamaServer(EngineSource.parse(config.getString("dalang.engine.llama-server-source")));
    var quantizer = new LlamaQuantize(provisioner.binary(entry, "llama-quantize"));
    String baseDigest = SweepRunner.digest(model);
    var baseTypes = LlamaQuantize.tensorTypes(model);
    String refName = dominantType(baseTypes);

    record Planned(String name, Path path, String digest, long bytes, Map<String, Integer> types, boolean ref) {}
    var planned = new ArrayList<Planned>();
    planned.add(new Planned(refName, model.toAbsolutePath(), baseDigest, Files.size(model), baseTypes, true));
    for (String q : quants) {
      err.printf("sweep: quantizing to %s%n", q);
      LlamaQuantize.Variant v;
      try {
        v = quantizer.quantize(model, baseDigest, q, dir.resolve("variants"), p.threads());
      } catch (io.dalang.engine.EngineException e) {
        err.println("dalang sweep: " + e.getMessage());
        return 2;
      }
      err.printf("sweep: %s %s (%d KiB, tensors %s, sha256 %s)%n", v.type(), v.reused() ? "reused" : "made", v.bytes() / 1024,
          v.tensorTypes(), v.digest().substring(0, 12));
      planned.add(new Planned(v.type(), v.path(), v.digest(), v.bytes(), v.tensorTypes(), false));
    }
    var runner = new SweepRunner(p, configFile, err);
    var measured = new ArrayList<SweepAnalysis.Measured>();
    SweepRunner.EngineFacts engine = null;
    int i = 0;
    for (Planned v : planned) {
      i++;
      err.printf("sweep: [%d/%d] %s: loading into a live slot%n", i, planned.size(), v.name());
      List<SweepAnalysis.Observation> runs;
      try {
        var result = runner.measure(v.name(), v.path(), dir.resolve("work").resolve(v.name()));
        engine = result.engine();
        runs = result.runs();
      } catch (Exception e) { // the variant could not be served: it is reported, the sweep goes on
        err.printf("sweep: %s could not be measured: %s%n", v.name(), e.getMessage());
        runs = List.of(new SweepAnalysis.Observation("(slot)", 0, List.of(), 0, 0, List.of("slot_failed: " + e.getMessage())));
      }
      measured.add(new SweepAnalysis.Measured(v.name(), v.path().toString(), v.digest(), v.bytes(), v.types(), v.ref(), runs));
    }
    if (engine == null) {
      err.println("dalang sweep: no variant could be served; see the messages above");
      return 1;
    }
    var analysis = SweepAnalysis.analyse(measured, p.promptIds(), floor, includeInvalid);
    var provenance = new SweepSummary.Provenance(version(), Provenance.commit(), engine.kind(), engine.version(), engine.digest(),
        quantizer.binaryDigest(), model.toAbsolutePath().toString(), baseDigest, Provenance.machine(GpuProbe.probe(List.of())),
        new SweepSummary.Preset(p.name(), p.seed(), p.threads(), p.affinityPolicy(), p.warmupSteps(), p.maxTokens(), p.repeats(),
            p.prompts().size(), p.promptsDigest()));
    var summary = new SweepSummary(SweepSummary.SCHEMA_VERSION, sweepId, Instant.now().toString(), provenance, refName, analysis.variants(),
        analysis.recommendation(), analysis.frontier(), includeInvalid);
    Path summaryFile = dir.resolve("summary.json");
    SummaryFiles.writeAtomically(summaryFile, JSON.writeValueAsBytes(summary));
    FrontierPlot.writeSvg(summary, dir.resolve("frontier.svg"));
    try {
      FrontierPlot.writePng(summary, dir.resolve("frontier.png"));
    } catch (Exception | Error e) { // a machine without fonts: the SVG carries the same plot
      err.println("sweep: no PNG plot (" + e + "); the SVG has the same plot");
    }
    deleteTree(dir.resolve("work"));
    if (!noBaseline) {
      Path b = new BaselineStore(BaselineSettings.from(config).dir()).record(summary, summaryFile);
      err.println("sweep: recorded as baseline " + sweepId + " (" + b + "; `dalang baseline pin " + sweepId + "` keeps it)");
    }
    if (catalogName != null) {
      try {
        var added = new CatalogExport(nodeUrl, catalogKey(), dataDir, err).add(catalogName, summary);
        for (String line : CatalogExport.describe(added)) System.out.println("catalog: " + line);
      } catch (IOException e) {
        err.println("dalang sweep: the summary is written, but adding the variants to the catalog failed: " + e.getMessage());
        System.out.print(table(summary));
        return 1;
      }
    }
    System.out.print(table(summary));
    System.out.println("summary: " + summaryFile);
    System.out.println("plots:   " + dir.resolve("frontier.svg") + ", " + dir.resolve("frontier.png"));
    return 0;
  }

  private String catalogKey() throws IOException {
    if (adminKey != null) return adminKey;
    String env = System.getenv("DALANG_ADMIN_KEY");
    if (env != null && !env.isBlank()) return env.strip();
    Path file = dataDir.resolve("admin.key");
    if (Files.isRegularFile(file)) return Files.readString(file).strip();
    throw new IOException("no admin key: pass --key, set DALANG_ADMIN_KEY, or keep the node's admin.key in --data-dir");
  }

  static String table(SweepSummary s) {
    var sb = new StringBuilder();
    sb.append(String.format("%nSweep %s, preset %s, reference %s%n%n", s.sweepId(), s.provenance().preset().name(), s.reference()));
    sb.append(String.format("%-10s %10s %10s %10s %10s %12s %8s%n", "variant", "size KiB", "tokens/s", "TTFT p95", "adherence", "1st diverge", "valid"));
    for (var v : s.variants()) {
      sb.append(String.format(java.util.Locale.ROOT, "%-10s %10d %10.1f %10.1f %10.3f %12.1f %4d/%-3d%s%n", v.name(), v.fileBytes() / 1024,
          v.tokensPerSecond(), v.ttftMsP95(), v.adherence(), v.meanFirstDivergence(), v.runsValid(), v.runsTotal(),
          s.frontier().contains(v.name()) ? "  frontier" : ""));
    }
    var r = s.recommendation();
    sb.append(String.format("%nrecommendation: %s (%s)%n", r.variant() == null ? "none" : r.variant(), r.reason()));
    return sb.toString();
  }

  /** The type most of the base model's weights have (by tensor count, 2-D and larger weigh the same). */
  static String dominantType(Map<String, Integer> types) {
    return types.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse("base");
  }

  private static String version() {
    String v = SweepCommand.class.getPackage().getImplementationVersion();
    return v != null ? v : "0.1.0";
  }

  /**
   * Deletes a work dir, best effort: leftovers are harmless, and a file that a stopping node deletes
   * while the walk runs (its serve.url) must not fail the command.
   */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) return;
    try (var walk = Files.walk(dir)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (java.io.IOException | java.io.UncheckedIOException ignored) {
      // leftovers of a work dir are harmless
    }
  }

  /** Where a sweep's numbers come from. */
  static final class Provenance {
    private Provenance() {}

    /** The Dalang checkout's commit (with {@code -dirty} for uncommitted changes), or {@code unknown}. */
    static String commit() {
      try {
        Path classes = Path.of(SweepCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        // The checkout holding these classes (runtime/tools/target/classes, or a jar in runtime/cli/target/lib).
        Path home = classes.getParent();
        while (home != null && !Files.exists(home.resolve(".git"))) home = home.getParent();
        if (home == null) return "unknown";
        String head = run(home, "git", "rev-parse", "HEAD");
        String dirty = run(home, "git", "status", "--porcelain", "--untracked-files=no");
        return head.isBlank() ? "unknown" : head.trim() + (dirty.isBlank() ? "" : "-dirty");
      } catch (Exception e) {
        return "unknown";
      }
    }

    private static String run(Path dir, String... cmd) throws Exception {
      var p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      return p.waitFor() == 0 ? out : "";
    }

    static Map<String, Object> machine(List<io.dalang.protocols.node.Device> devices) {
      var m = new LinkedHashMap<String, Object>();
      try {
        m.put("hostname", java.net.InetAddress.getLocalHost().getHostName());
      } catch (java.io.IOException e) {
        m.put("hostname", "unknown");
      }
      m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
      m.put("arch", System.getProperty("os.arch"));
      m.put("cpus", Runtime.getRuntime().availableProcessors());
      var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof com.sun.management.OperatingSystemMXBean sun) m.put("memory_mib", sun.getTotalMemorySize() >> 20);
      m.put("java", System.getProperty("java.version"));
      m.put("devices", devices.stream().map(d -> d.id() + " " + d.name() + " (" + d.memoryTotalMib() + " MiB)").toList());
      return m;
    }
  }
}
