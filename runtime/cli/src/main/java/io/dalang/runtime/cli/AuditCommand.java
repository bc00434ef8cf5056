package io.dalang.runtime.cli;

import com.typesafe.config.Config;
import io.dalang.actors.audit.AuditAnchor;
import io.dalang.actors.audit.AuditExport;
import io.dalang.actors.audit.AuditFilter;
import io.dalang.actors.audit.AuditOutcome;
import io.dalang.actors.audit.AuditSettings;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.audit.AuditStoreException;
import io.dalang.actors.audit.VerifyResult;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.EmbeddedJournal;
import io.dalang.runtime.serve.ServeOptions;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code dalang audit verify | export}: checks and exports the audit ledger straight from a data dir's
 * database (read-only; while {@code dalang serve} holds it, through the node's admin API, see
 * {@link RunningNode}), and verifies an exported file on its own, away from the cluster.
 *
 * <p>Exit codes: 0 intact (or exported), 1 the chain is broken or was tampered with, 2 a usage error or
 * the ledger could not be read at all (nothing was checked).
 */
@Command(name = "audit", mixinStandardHelpOptions = true, description = "Verify and export the audit ledger.",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Export.class})
public final class AuditCommand {
  static final int INTACT = 0;
  static final int BROKEN = 1;
  static final int UNUSABLE = 2;

  /** Where the ledger is: a data dir and an optional config file, as for {@code serve}. */
  static final class Source {
    @Option(names = "--data-dir", description = "Data dir whose database holds the ledger (default $DALANG_DATA_DIR or ./data)")
    Path dataDir;

    @Option(names = "--config", description = "HOCON file whose keys override the defaults (e.g. another JDBC url)")
    Path config;

    /** The effective config, or a usage error (printed) as null. */
    Config load(PrintWriter err, String command) {
      if (config != null && !Files.isRegularFile(config)) {
        err.println(command + ": --config " + config + " does not exist");
        return null;
      }
      Config c = DalangNode.config(new ServeOptions(dataDir, null, null, null, config, null, null));
      Path dir = Path.of(c.getString("dalang.data-dir"));
      String url = c.getString("pekko-persistence-jdbc.shared-databases.slick.db.url");
      if (url.startsWith("jdbc:h2:file:" + dir.resolve("db")) && !Files.isDirectory(dir.resolve("db"))) {
        err.println(command + ": " + dir + " holds no Dalang database (no db/ folder); start `dalang serve --data-dir " + dir + "` first");
        return null;
      }
      try {
        return EmbeddedJournal.forReader(c);
      } catch (IOException e) {
        err.println(command + ": cannot read the journal's password file: " + e.getMessage());
        return null;
      }
    }

    Path dataDir(Config c) {
      return Path.of(c.getString("dalang.data-dir"));
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = {"Walk the audit chain and its Merkle roots; report OK with the head hash and count, or the first broken seq and why.",
          "Exit 0 intact, 1 broken or tampered, 2 usage error or unreadable."})
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;

    @CommandLine.Mixin Source source = new Source();

    @Option(names = "--file", paramLabel = "EXPORT.jsonl",
        description = "Verify an exported JSON Lines file on its own instead of a data dir's database")
    Path file;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      if (file != null && (source.dataDir != null || source.config != null)) {
        err.println("dalang audit verify: --file checks an export on its own; leave out --data-dir and --config");
        return UNUSABLE;
      }
      return file != null ? verifyFile(out, err) : verifyStore(out, err);
    }

    private int verifyStore(PrintWriter out, PrintWriter err) {
      Config c = source.load(err, "dalang audit verify");
      if (c == null) return UNUSABLE;
      try {
        var store = AuditStore.fromConfig(c);
        store.createTablesIfMissing();
        int chain = report(store.verify(AuditSettings.from(c).blockSize()), "audit chain", out);
        return chain == INTACT ? anchors(store, source.dataDir(c), out) : chain;
      } catch (IOException e) {
        err.println("dalang audit verify: cannot read the checkpoints: " + e.getMessage());
        return UNUSABLE;
      } catch (AuditStoreException e) {
        if (EmbeddedJournal.heldByAnotherProcess(e)) return verifyThroughNode(source.dataDir(c), out, err);
        err.println("dalang audit verify: " + e.getMessage());
        return UNUSABLE;
      }
    }

    /**
     * The signed checkpoints outside the database against the stored chain: a truncated tail, a
     * rewritten chain or a missing checkpoint each break it. A data dir that no anchoring version served
     * (no {@code audit.key}) is reported as not anchored, not as broken.
     */
    private static int anchors(AuditStore store, Path dataDir, PrintWriter out) throws IOException {
      var anchor = AuditAnchor.existing(dataDir);
      if (anchor == null) {
        out.printf("not anchored: %s has no %s (no node of this version has served it); only the hash chain was checked%n", dataDir, AuditAnchor.KEY_FILE);
        return INTACT;
      }
      var r = anchor.check(store);
      r.notes().forEach(n -> out.println("note: " + n));
      r.problems().forEach(p -> out.println("BROKEN: " + p));
      if (r.ok()) out.println("anchored: the chain matches its signed checkpoints in " + dataDir.resolve(AuditAnchor.DIR));
      return r.ok() ? INTACT : BROKEN;
    }

    /** While {@code serve} holds the journal: the node walks the chain ({@code GET /admin/v1/audit/verify}). */
    private int verifyThroughNode(Path dataDir, PrintWriter out, PrintWriter err) {
      try {
        var r = Json.MAPPER.treeToValue(RunningNode.get(dataDir, "/admin/v1/audit/verify"), VerifyResult.class);
        return report(r, "audit chain", out);
      } catch (RunningNode.Unreachable | IOException e) {
        err.println("dalang audit verify: " + e.getMessage());
        return UNUSABLE;
      }
    }

    private int verifyFile(PrintWriter out, PrintWriter err) {
      if (!Files.isRegularFile(file)) {
        err.println("dalang audit verify: --file " + file + " does not exist");
        return UNUSABLE;
      }
      // A decoder that replaces bytes that are not UTF-8, so a damaged byte is a hash mismatch where it stands.
      try (var in = new BufferedReader(new InputStreamReader(Files.newInputStream(file), StandardCharsets.UTF_8))) {
        return report(AuditExport.verify(in), file.toString(), out);
      } catch (AuditExport.NotAnExport e) {
        err.println("dalang audit verify: " + file + ": " + e.getMessage());
        return UNUSABLE;
      } catch (IOException e) {
        err.println("dalang audit verify: cannot read " + file + ": " + e.getMessage());
        return UNUSABLE;
      }
    }

    private static int report(VerifyResult r, String what, PrintWriter out) {
      if (r.ok() && r.linksChecked()) {
        out.printf("OK: %s intact: %s, %s%n", what, plural(r.count(), "event"), plural(r.roots(), "Merkle root"));
        out.printf("head: seq %d hash %s%n", r.headSeq(), r.headHash());
        if (r.prunedThroughSeq() > 0) {
          out.printf("pruned: seq 1..%d by retention; the rest verified from that checkpoint, which the chain's latest audit.prune event attests%n",
              r.prunedThroughSeq());
        }
        return INTACT;
      }
      if (r.ok()) {
        out.printf("OK (filtered export): %s: %s checked; links and Merkle roots not checked, a filtered export leaves events out%n",
            what, plural(r.count(), "event hash"));
        out.printf("last: seq %d hash %s%n", r.headSeq(), r.headHash());
        return INTACT;
      }
      out.printf("BROKEN: %s at seq %d: %s%n", what, r.firstBrokenSeq(), r.reason());
      out.printf("intact before it: %s, %s%s%n", plural(r.count(), "event"), plural(r.roots(), "Merkle root"),
          r.headSeq() > 0 ? " (up to seq " + r.headSeq() + " hash " + r.headHash() + ")" : "");
      return BROKEN;
    }
  }

  @Command(name = "export", mixinStandardHelpOptions = true,
      description = {"Write the audit chain with its hashes and Merkle roots as JSON Lines or CSV.",
          "With a filter only the selected events are written: each one's hash can be checked, the links between them cannot."})
  static final class Export implements Callable<Integer> {
    @Spec CommandSpec spec;

    @CommandLine.Mixin Source source = new Source();

    @Option(names = "--format", description = "jsonl (default; verifiable with `dalang audit verify --file`) or csv")
    AuditExport.Format format = AuditExport.Format.JSONL;

    @Option(names = "--tenant", description = "Only this tenant's events (\"\" for platform-level ones)")
    String tenant;

    @Option(names = "--actor", description = "Only events by this actor (a key id, bootstrap-admin, system)")
    String actor;

    @Option(names = "--action", description = "Only this action, e.g. key.revoke")
    String action;

    @Option(names = "--outcome", converter = OutcomeConverter.class, description = "Only ok, denied or failed")
    AuditOutcome outcome;

    @Option(names = "--since", converter = IsoTime.class, paramLabel = "ISO",
        description = "Only events at or after this time: 2025-01-31 (UTC) or 2025-01-31T12:00:00Z")
    Long since;

    @Option(names = "--until", converter = IsoTime.class, paramLabel = "ISO", description = "Only events before this time")
    Long until;

    @Option(names = "--out", paramLabel = "FILE", description = "Write here instead of to standard output")
    Path outFile;

    @Override
    public Integer call() {
      PrintWriter err = spec.commandLine().getErr();
      Config c = source.load(err, "dalang audit export");
      if (c == null) return UNUSABLE;
      var filter = AuditFilter.ALL.tenant(tenant).actor(actor).action(action).outcome(outcome).since(since).until(until);
      try {
        var store = AuditStore.fromConfig(c);
        store.createTablesIfMissing();
        AuditExport.Summary s;
        if (outFile != null) {
          try (Writer w = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(outFile), StandardCharsets.UTF_8))) {
            s = AuditExport.write(store, filter, AuditSettings.from(c).blockSize(), format, w, System.currentTimeMillis());
          }
        } else {
          s = AuditExport.write(store, filter, AuditSettings.from(c).blockSize(), format, spec.commandLine().getOut(),
              System.currentTimeMillis());
        }
        err.printf("exported %s and %s (%s; chain head seq %d hash %s)%s%n", plural(s.events(), "event"), plural(s.roots(), "Merkle root"),
            s.filtered() ? "filtered by " + filter.criteria().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue())
                .collect(Collectors.joining(", ")) + ": hashes verifiable, links not" : "the whole chain",
            s.head().seq(), s.head().hash(), outFile != null ? " to " + outFile : "");
        return INTACT;
      } catch (AuditExport.UnreadableEvent e) {
        err.println("dalang audit export: " + e.getMessage());
        return BROKEN;
      } catch (AuditStoreException e) {
        if (EmbeddedJournal.heldByAnotherProcess(e)) return exportThroughNode(source.dataDir(c), err);
        err.println("dalang audit export: " + e.getMessage());
        return UNUSABLE;
      } catch (IOException e) {
        err.println("dalang audit export: cannot write " + outFile + ": " + e.getMessage());
        return UNUSABLE;
      }
    }

    /** While {@code serve} holds the journal: the node writes the export ({@code GET /admin/v1/audit?format=...}). */
    private int exportThroughNode(Path dataDir, PrintWriter err) {
      var q = new StringBuilder("/admin/v1/audit?format=").append(format == AuditExport.Format.CSV ? "csv" : "jsonl");
      param(q, "tenant", tenant);
      param(q, "actor", actor);
      param(q, "action", action);
      param(q, "outcome", outcome == null ? null : outcome.name().toLowerCase(java.util.Locale.ROOT));
      param(q, "since", since == null ? null : Instant.ofEpochMilli(since).toString());
      param(q, "until", until == null ? null : Instant.ofEpochMilli(until).toString());
      try {
        String body = RunningNode.getText(dataDir, q.toString());
        if (outFile != null) Files.writeString(outFile, body, StandardCharsets.UTF_8);
        else spec.commandLine().getOut().print(body);
        err.printf("exported through the running node%s%n", outFile != null ? " to " + outFile : "");
        return INTACT;
      } catch (RunningNode.Unreachable e) {
        err.println("dalang audit export: " + e.getMessage());
        return UNUSABLE;
      } catch (IOException e) {
        err.println("dalang audit export: cannot write " + outFile + ": " + e.getMessage());
        return UNUSABLE;
      }
    }

    private static void param(StringBuilder q, String name, String value) {
      if (value != null) q.append('&').append(name).append('=').append(java.net.URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
  }

  static String plural(long n, String noun) {
    return n + " " + noun + (n == 1 ? "" : noun.endsWith("h") ? "es" : "s");
  }

  /** {@code ok}, {@code denied} or {@code failed}, any case. */
  static final class OutcomeConverter implements CommandLine.ITypeConverter<AuditOutcome> {
    @Override
    public AuditOutcome convert(String value) {
      try {
        return AuditOutcome.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** An ISO-8601 date (midnight UTC), date-time with offset, or instant, as epoch milliseconds. */
  static final class IsoTime implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        if (value.length() == 10) return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
        if (value.endsWith("Z")) return Instant.parse(value).toEpochMilli();
        return OffsetDateTime.parse(value).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' is not an ISO-8601 time (e.g. 2025-01-31 or 2025-01-31T12:00:00Z)");
      }
    }
  }
}
