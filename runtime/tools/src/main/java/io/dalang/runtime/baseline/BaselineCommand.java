package io.dalang.runtime.baseline;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.sweep.SummaryFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code dalang baseline add | list | pin | unpin | prune}: the sweeps kept in {@code <data-dir>/baselines}
 * to compare new sweeps with. {@code add} (and {@link BaselineStore#record}, for the sweep itself) keeps one;
 * prune applies the retention policy ({@link Retention}), which never removes a pinned baseline.
 *
 * <p>Exit codes: 0 done, 2 a usage error, an unknown id, or a file that could not be read or written.
 */
@Command(name = "baseline", mixinStandardHelpOptions = true, description = "Keep, pin and prune sweep baselines.",
    subcommands = {BaselineCommand.Add.class, BaselineCommand.ListBaselines.class, BaselineCommand.Pin.class,
        BaselineCommand.Unpin.class, BaselineCommand.Prune.class})
public final class BaselineCommand {
  static final int DONE = 0;
  static final int UNUSABLE = 2;

  /** Where the baselines are, as for the other commands: a data dir and an optional config file. */
  static final class Where {
    @Option(names = "--data-dir", description = "Data dir whose baselines/ folder holds them (default $DALANG_DATA_DIR or ./data)")
    Path dataDir;

    @Option(names = "--config", description = "HOCON file whose keys override the defaults (e.g. dalang.baselines.max-age)")
    Path config;

    BaselineSettings settings() throws Unusable {
      if (config != null && !Files.isRegularFile(config)) throw new Unusable("--config " + config + " does not exist");
      try {
        return BaselineSettings.from(DalangNode.config(new ServeOptions(dataDir, null, null, null, config, null, null)));
      } catch (ConfigException e) {
        throw new Unusable(e.getMessage());
      }
    }
  }

  /** Input the command cannot use; its message is the one line printed. */
  static final class Unusable extends Exception {
    Unusable(String message) {
      super(message);
    }
  }

  /** Runs a subcommand body, turning every expected failure into one line on stderr and exit 2. */
  abstract static class Sub implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin Where where = new Where();

    @Override
    public Integer call() {
      String name = "dalang baseline " + spec.name();
      try {
        run(new BaselineStore(where.settings().dir()), spec.commandLine().getOut());
        return DONE;
      } catch (Unusable | BaselineStore.UnknownBaseline | IOException e) {
        spec.commandLine().getErr().println(name + ": " + e.getMessage());
        return UNUSABLE;
      }
    }

    abstract void run(BaselineStore store, PrintWriter out) throws Unusable, BaselineStore.UnknownBaseline, IOException;
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Keep a sweep summary as a baseline (unpinned).")
  static final class Add extends Sub {
    @Parameters(paramLabel = "S.json", description = "Sweep summary written by `dalang sweep`")
    Path file;

    @Option(names = "--label", paramLabel = "L", description = "Free text shown by list")
    String label;

    @Override
    void run(BaselineStore store, PrintWriter out) throws Unusable, BaselineStore.UnknownBaseline, IOException {
      SweepSummary s;
      try {
        s = SummaryFiles.read(file);
      } catch (SummaryFiles.UnusableSummary e) {
        throw new Unusable(e.getMessage());
      }
      Path stored = store.record(s, file);
      if (label != null) store.label(s.sweepId(), label);
      out.println("added " + s.sweepId() + " as " + stored);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List baselines, oldest first: id, added, pinned, label, preset, recommendation.")
  static final class ListBaselines extends Sub {
    @Option(names = "--json", description = "Print a JSON array instead of a table")
    boolean json;

    @Override
    void run(BaselineStore store, PrintWriter out) throws IOException {
      var rows = new ArrayList<Map<String, Object>>();
      for (Baseline b : store.list()) rows.add(row(b));
      if (json) {
        out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(rows));
      } else if (rows.isEmpty()) {
        out.println("no baselines in " + store.dir());
      } else {
        String format = "%-40s %-20s %-6s %-16s %-16s %s%n";
        out.printf(format, "id", "added", "pinned", "label", "preset", "recommendation");
        for (var r : rows) {
          String added = Instant.parse((String) r.get("added_at")).truncatedTo(ChronoUnit.SECONDS).toString();
          out.printf(format, r.get("id"), added, (boolean) r.get("pinned") ? "yes" : "no", dash(r.get("label")), dash(r.get("preset")),
              dash(r.get("recommendation")));
        }
      }
    }

    private static Object dash(Object value) {
      return value == null ? "-" : value;
    }

    private static Map<String, Object> row(Baseline b) {
      var m = new LinkedHashMap<String, Object>();
      m.put("id", b.id());
      m.put("added_at", b.addedAt().toString());
      m.put("pinned", b.pinned());
      m.put("label", b.label());
      try {
        SweepSummary s = SummaryFiles.read(b.summary());
        var p = s.provenance();
        m.put("preset", p == null || p.preset() == null ? null : p.preset().name());
        m.put("recommendation", s.recommendation() == null ? null : s.recommendation().variant());
      } catch (SummaryFiles.UnusableSummary e) {
        // Listed all the same, so that it can be found and unpinned or pruned.
        m.put("preset", "(unreadable)");
        m.put("recommendation", "(unreadable)");
      }
      m.put("file", b.summary().toString());
      return m;
    }
  }

  @Command(name = "pin", mixinStandardHelpOptions = true, description = "Pin a baseline: prune never removes it.")
  static final class Pin extends Sub {
    @Parameters(paramLabel = "ID", description = "Sweep id, as list shows it")
    String id;

    @Option(names = "--label", paramLabel = "L", description = "Replace its label")
    String label;

    @Override
    void run(BaselineStore store, PrintWriter out) throws BaselineStore.UnknownBaseline, IOException {
      Baseline b = store.pin(id, label);
      out.println("pinned " + b.id() + (b.label() == null ? "" : " (" + b.label() + ")"));
    }
  }

  @Command(name = "unpin", mixinStandardHelpOptions = true, description = "Unpin a baseline: prune may remove it again.")
  static final class Unpin extends Sub {
    @Parameters(paramLabel = "ID", description = "Sweep id, as list shows it")
    String id;

    @Override
    void run(BaselineStore store, PrintWriter out) throws BaselineStore.UnknownBaseline, IOException {
      out.println("unpinned " + store.unpin(id).id());
    }
  }

  @Command(name = "prune", mixinStandardHelpOptions = true,
      description = {"Remove unpinned baselines older than --max-age, then the oldest unpinned beyond --max-count.",
          "Pinned baselines are never removed and do not count. Defaults: dalang.baselines.max-age / max-count (30d / 20); 0 turns a limit off."})
  static final class Prune extends Sub {
    @Option(names = "--max-age", paramLabel = "AGE", converter = DurationConverter.class,
        description = "e.g. 30d, 12h (default dalang.baselines.max-age)")
    Duration maxAge;

    @Option(names = "--max-count", paramLabel = "N", description = "Unpinned baselines kept at most (default dalang.baselines.max-count)")
    Integer maxCount;

    @Option(names = "--dry-run", description = "Print what would be removed; remove nothing")
    boolean dryRun;

    @Override
    void run(BaselineStore store, PrintWriter out) throws Unusable, IOException {
      Retention configured = where.settings().retention();
      Retention r;
      try {
        r = new Retention(maxAge != null ? maxAge : configured.maxAge(), maxCount != null ? maxCount : configured.maxCount());
      } catch (IllegalArgumentException e) {
        throw new Unusable(e.getMessage());
      }
      List<Baseline> before = store.list();
      List<Retention.Removal> removed = store.prune(r, dryRun);
      for (Retention.Removal x : removed) {
        out.printf("%s %s (added %s, %s)%n", dryRun ? "would remove" : "removed", x.baseline().id(), x.baseline().addedAt(), x.reason());
      }
      out.printf("%s %d, kept %d (%d pinned); max-age %s, max-count %s%n", dryRun ? "dry run, would remove" : "removed", removed.size(),
          before.size() - removed.size(), before.stream().filter(Baseline::pinned).count(),
          r.maxAge().isZero() ? "off" : Retention.human(r.maxAge()), r.maxCount() == 0 ? "off" : Integer.toString(r.maxCount()));
    }
  }

  /** {@code 30d}, {@code 12h}, {@code 90 minutes}: HOCON's duration format, as in the config. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return ConfigFactory.parseMap(Map.of("d", value)).getDuration("d");
      } catch (ConfigException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not a duration (e.g. 30d, 12h)");
      }
    }
  }
}
