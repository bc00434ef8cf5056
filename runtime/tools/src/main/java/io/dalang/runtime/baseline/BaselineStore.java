package io.dalang.runtime.baseline;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.http.Json;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.runtime.sweep.SummaryFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Sweep baselines kept in one folder ({@code <data-dir>/baselines}): each sweep's summary as
 * {@code <sweep_id>.json}, copied byte for byte, beside {@code <sweep_id>.meta.json} ({@code added_at},
 * {@code pinned}, {@code label}). Every write goes to a temporary file that is then moved into place, so a
 * reader never sees half a file. A summary without its sidecar (copied in by hand, or a crash between the
 * two writes) counts as unpinned, added when the file was last modified.
 */
public final class BaselineStore {
  private static final String SUMMARY = ".json";
  private static final String META = ".meta.json";

  private final Path dir;
  private final Clock clock;

  public BaselineStore(Path dir) {
    this(dir, Clock.systemUTC());
  }

  public BaselineStore(Path dir, Clock clock) {
    this.dir = dir;
    this.clock = clock;
  }

  /** What a baseline's sidecar holds. */
  @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
  record Meta(String addedAt, boolean pinned, String label) {}

  /** An id the store does not hold. */
  public static final class UnknownBaseline extends Exception {
    UnknownBaseline(String id, Path dir) {
      super("no baseline '" + id + "' in " + dir + " (see `dalang baseline list`)");
    }
  }

  public Path dir() {
    return dir;
  }

  /**
   * Keeps a sweep as a baseline: copies {@code summaryFile} (the file {@code summary} was read from or
   * written to) in as {@code <sweep_id>.json}, unpinned and without a label. Recording a sweep again
   * replaces its copy and keeps its sidecar (when it was added, pin, label).
   *
   * @return the stored copy
   */
  public Path record(SweepSummary summary, Path summaryFile) throws IOException {
    String id = summary.sweepId();
    if (id == null || !SummaryFiles.isSafeId(id)) throw new IOException("sweep_id '" + id + "' cannot name a baseline file");
    Path target = dir.resolve(id + SUMMARY);
    PrivateFiles.createDirectories(dir); // under the data dir: owner-only, as the files (SummaryFiles writes 0600)
    SummaryFiles.writeAtomically(target, Files.readAllBytes(summaryFile));
    if (!Files.exists(dir.resolve(id + META))) writeMeta(id, new Meta(clock.instant().truncatedTo(ChronoUnit.SECONDS).toString(), false, null));
    return target;
  }

  /** Every baseline, oldest first. */
  public List<Baseline> list() throws IOException {
    if (!Files.isDirectory(dir)) return List.of();
    var out = new ArrayList<Baseline>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (!name.endsWith(SUMMARY) || name.endsWith(META)) continue;
        String id = name.substring(0, name.length() - SUMMARY.length());
        if (SummaryFiles.isSafeId(id)) out.add(baseline(id));
      }
    }
    out.sort(Comparator.comparing(Baseline::addedAt).thenComparing(Baseline::id));
    return out;
  }

  public Baseline get(String id) throws UnknownBaseline, IOException {
    if (!SummaryFiles.isSafeId(id) || !Files.isRegularFile(dir.resolve(id + SUMMARY))) throw new UnknownBaseline(id, dir);
    return baseline(id);
  }

  /** Pins a baseline so that no prune removes it; a non-null {@code label} replaces its label. */
  public Baseline pin(String id, String label) throws UnknownBaseline, IOException {
    return update(id, true, label);
  }

  public Baseline unpin(String id) throws UnknownBaseline, IOException {
    return update(id, false, null);
  }

  /** Replaces a baseline's label, pin unchanged. */
  public Baseline label(String id, String label) throws UnknownBaseline, IOException {
    return update(id, get(id).pinned(), label);
  }

  /**
   * Removes what {@code retention} selects (never a pinned baseline), unless {@code dryRun}.
   *
   * @return what was removed, or would be
   */
  public List<Retention.Removal> prune(Retention retention, boolean dryRun) throws IOException {
    var removals = retention.removals(list(), clock.instant());
    if (!dryRun) {
      for (Retention.Removal r : removals) {
        // The sidecar first: a crash between leaves an unpinned summary, which the next prune removes.
        Files.deleteIfExists(dir.resolve(r.baseline().id() + META));
        Files.deleteIfExists(r.baseline().summary());
      }
    }
    return removals;
  }

  private Baseline update(String id, boolean pinned, String label) throws UnknownBaseline, IOException {
    Baseline b = get(id);
    var meta = new Meta(b.addedAt().toString(), pinned, label != null ? label : b.label());
    writeMeta(id, meta);
    return new Baseline(id, b.addedAt(), meta.pinned(), meta.label(), b.summary());
  }

  private Baseline baseline(String id) throws IOException {
    Path summary = dir.resolve(id + SUMMARY);
    Path sidecar = dir.resolve(id + META);
    if (!Files.exists(sidecar)) return new Baseline(id, Files.getLastModifiedTime(summary).toInstant(), false, null, summary);
    Meta m;
    try {
      m = Json.MAPPER.readValue(sidecar.toFile(), Meta.class);
    } catch (IOException e) {
      // Unreadable, it might be a pinned one: stop rather than guess.
      throw new IOException("cannot read " + sidecar + ": " + e.getMessage().lines().findFirst().orElse(""), e);
    }
    if (m == null || m.addedAt() == null) throw new IOException(sidecar + " has no added_at");
    try {
      return new Baseline(id, Instant.parse(m.addedAt()), m.pinned(), m.label(), summary);
    } catch (DateTimeParseException e) {
      throw new IOException(sidecar + ": added_at '" + m.addedAt() + "' is not an ISO-8601 instant", e);
    }
  }

  private void writeMeta(String id, Meta m) throws IOException {
    SummaryFiles.writeAtomically(dir.resolve(id + META), Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
  }
}
