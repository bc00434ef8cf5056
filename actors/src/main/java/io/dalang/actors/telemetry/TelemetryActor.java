package io.dalang.actors.telemetry;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.files.PrivateFiles;
import io.dalang.protocols.telemetry.RunRecord;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Collects the {@link RunRecord} of every run that ended on this node: keeps the latest in memory for
 * {@code GET /v1/runs/{id}}, appends each to {@code <data-dir>/runs/runs.jsonl} (read back on start),
 * and feeds the metrics registry's KPI summaries from valid runs only, so warm-ups, failures and
 * polluted runs never skew a KPI; no setting lets an invalid run in. With a sidecar, a run is first
 * judged against the device samples from its start to its end ({@link ValidRunPolicy#withSidecar}).
 *
 * <p>{@link RecordRun} replies nothing; {@link GetRun} replies a {@link RunLookup} (empty if unknown or
 * of another tenant).
 */
public final class TelemetryActor {

  public interface Command extends CborSerializable {}

  public record RecordRun(RunRecord record) implements Command {}

  public record GetRun(String runId, String tenant, ActorRef<RunLookup> replyTo) implements Command {}

  public record RunLookup(RunRecord run) implements CborSerializable {}

  /** How each model blob (by sha256) of {@code pool} did in the runs received since {@code sinceEpochMs}. */
  public record GetVersionStats(String pool, long sinceEpochMs, ActorRef<VersionStats> replyTo) implements Command {}

  public record VersionStats(Map<String, Stats> byDigest) implements CborSerializable {
    public Stats of(String digest) {
      return byDigest.getOrDefault(digest, Stats.NONE);
    }
  }

  /**
   * @param runs every run that ended (warm-ups never reach telemetry)
   * @param failed runs that ended with an error the engine or Dalang caused (a cancelled or client-side
   *     error, or load the pool turned away, is not the version's fault: {@code cancelled},
   *     {@code invalid_request}, {@code context_length_exceeded}, {@code unsupported_parameter},
   *     {@code capacity_exhausted}, {@code quota_exceeded} are left out)
   * @param valid valid runs, the only ones whose latency and speed count
   */
  public record Stats(int runs, int failed, int valid, double ttftP95Ms, double tokensPerSecondP50) implements CborSerializable {
    public static final Stats NONE = new Stats(0, 0, 0, 0, 0);

    public double errorRate() {
      return runs == 0 ? 0 : failed / (double) runs;
    }
  }

  /** Outcomes that say nothing about the model version that served the run. */
  static final java.util.Set<String> NOT_THE_VERSIONS_FAULT = java.util.Set.of("ok", "cancelled", "invalid_request",
      "context_length_exceeded", "unsupported_parameter", "malformed_json", "capacity_exhausted", "quota_exceeded");

  // Records of any schema version parse: missing (older) fields take their defaults, unknown (newer) ones are skipped.
  private static final ObjectMapper JSON = new ObjectMapper()
      .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

  public static Behavior<Command> create(Path runsFile, int keep, MeterRegistry metrics) {
    return create(runsFile, keep, metrics, "off", java.time.Duration.ofSeconds(2));
  }

  /**
   * @param sidecar {@code off}; {@code auto}: sample nvidia-smi when the machine has it (else every run
   *     records {@code absent}); {@code file:PATH}: read a sidecar file in nvidia-smi's CSV form
   * @param sidecarInterval how often the sidecar is sampled; a run records the latest sample
   */
  public static Behavior<Command> create(Path runsFile, int keep, MeterRegistry metrics, String sidecar, java.time.Duration sidecarInterval) {
    return create(runsFile, keep, Long.MAX_VALUE, metrics, sidecar, sidecarInterval);
  }

  /**
   * @param keep how many recent records are kept in memory for {@link GetRun}
   * @param keepBytes and how many bytes of them at most (their JSON, as appended to the runs file): the
   *     oldest go first when either bound is passed, so large records cannot grow the heap without bound
   */
  public static Behavior<Command> create(Path runsFile, int keep, long keepBytes, MeterRegistry metrics, String sidecar,
      java.time.Duration sidecarInterval) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      var actor = new TelemetryActor(ctx, runsFile, keep, keepBytes, metrics);
      if (!sidecar.equals("off")) {
        actor.sidecarSource = sidecar;
        timers.startTimerWithFixedDelay(SampleSidecar.INSTANCE, java.time.Duration.ZERO, sidecarInterval);
      }
      return actor.behavior();
    }));
  }

  private enum SampleSidecar implements Command { INSTANCE }

  private record SidecarSampled(long atEpochMs, List<Map<String, Object>> samples) implements Command {}

  /** Sampling rounds kept to judge runs by; at the default 2 s interval, longer than the longest run. */
  private static final int SIDECAR_ROUNDS = 1024;

  /** Null when the sidecar is off: records then carry no sidecar block. */
  private String sidecarSource;
  private final SidecarHistory sidecar = new SidecarHistory(SIDECAR_ROUNDS);
  private boolean sampling;

  /** Runs on the blocking dispatcher: spawning nvidia-smi or reading a file must not hold an actor thread. */
  private static List<Map<String, Object>> sampleSidecar(String source) {
    if (source.startsWith("file:")) {
      try {
        return io.dalang.gpu.GpuSidecar.parse(Files.readString(Path.of(source.substring(5)), StandardCharsets.UTF_8));
      } catch (IOException | RuntimeException e) {
        return List.of(Map.of(io.dalang.gpu.GpuSidecar.STATUS, "failed", io.dalang.gpu.GpuSidecar.ERRORS,
            List.of("cannot read the sidecar file: " + e.getMessage())));
      }
    }
    return io.dalang.gpu.GpuSidecar.sample();
  }

  private final ActorContext<Command> ctx;
  private final Path runsFile;
  private final int keep;
  private final long keepBytes;
  private final MeterRegistry metrics;
  /** Recent records, oldest first, each with its size in bytes. */
  private final LinkedHashMap<String, Kept> recent = new LinkedHashMap<>(1024, 0.75f, false);
  private long recentBytes;
  private BufferedWriter writer;

  private record Kept(RunRecord record, int bytes) {}

  private TelemetryActor(ActorContext<Command> ctx, Path runsFile, int keep, long keepBytes, MeterRegistry metrics) {
    this.ctx = ctx;
    this.runsFile = runsFile;
    this.keep = keep;
    this.keepBytes = keepBytes;
    this.metrics = metrics;
    load();
  }

  /** Keeps {@code r} (of {@code bytes} as JSON), dropping the oldest records beyond either bound. */
  private void keep(RunRecord r, int bytes) {
    Kept old = recent.put(r.runId(), new Kept(r, bytes));
    recentBytes += bytes - (old == null ? 0 : old.bytes());
    var it = recent.values().iterator();
    while ((recent.size() > keep || recentBytes > keepBytes) && recent.size() > 1 && it.hasNext()) {
      recentBytes -= it.next().bytes();
      it.remove();
    }
  }

  /** One line of {@code runs.jsonl}, of any schema version. */
  static RunRecord parse(String line) throws IOException {
    return JSON.readValue(line, RunRecord.class);
  }

  private void load() {
    if (!Files.isRegularFile(runsFile)) return;
    try (var lines = Files.lines(runsFile, StandardCharsets.UTF_8)) {
      lines.forEach(line -> {
        try {
          RunRecord r = parse(line);
          keep(r, line.length());
        } catch (IOException e) {
          ctx.getLog().warn("skipping an unreadable line in {}", runsFile);
        }
      });
      ctx.getLog().info("telemetry: {} recent run record(s) loaded from {}", recent.size(), runsFile);
    } catch (IOException e) {
      ctx.getLog().warn("telemetry: cannot read {}: {}", runsFile, e.getMessage());
    }
  }

  private Behavior<Command> behavior() {
    return Behaviors.receive(Command.class)
        .onMessage(RecordRun.class, m -> {
          record(m.record());
          return Behaviors.same();
        })
        .onMessageEquals(SampleSidecar.INSTANCE, () -> {
          if (!sampling) {
            sampling = true;
            String source = sidecarSource;
            long at = System.currentTimeMillis();
            ctx.pipeToSelf(java.util.concurrent.CompletableFuture.supplyAsync(() -> sampleSidecar(source),
                    ctx.getSystem().dispatchers().lookup(org.apache.pekko.actor.typed.DispatcherSelector.blocking())),
                (samples, err) -> new SidecarSampled(at, err != null ? List.of(Map.of(io.dalang.gpu.GpuSidecar.STATUS, "failed",
                    io.dalang.gpu.GpuSidecar.ERRORS, List.of(String.valueOf(err.getMessage())))) : samples));
          }
          return Behaviors.same();
        })
        .onMessage(SidecarSampled.class, m -> {
          sampling = false;
          sidecar.add(m.atEpochMs(), m.samples());
          return Behaviors.same();
        })
        .onMessage(GetRun.class, m -> {
          Kept k = recent.get(m.runId());
          RunRecord r = k == null ? null : k.record();
          m.replyTo().tell(new RunLookup(r != null && r.tenant().equals(m.tenant()) ? r : null));
          return Behaviors.same();
        })
        .onMessage(GetVersionStats.class, m -> {
          m.replyTo().tell(versionStats(m.pool(), m.sinceEpochMs()));
          return Behaviors.same();
        })
        .onSignal(PostStop.class, s -> {
          closeWriter();
          return Behaviors.same();
        })
        .build();
  }

  private VersionStats versionStats(String pool, long since) {
    var byDigest = new java.util.HashMap<String, List<RunRecord>>();
    for (Kept k : recent.values()) {
      RunRecord r = k.record();
      if (pool.equals(r.pool()) && r.receivedAtEpochMs() >= since && r.modelDigest() != null) {
        byDigest.computeIfAbsent(r.modelDigest(), d -> new java.util.ArrayList<>()).add(r);
      }
    }
    var out = new java.util.HashMap<String, Stats>();
    byDigest.forEach((digest, runs) -> {
      int failed = (int) runs.stream().filter(r -> !NOT_THE_VERSIONS_FAULT.contains(r.outcome())).count();
      var valid = runs.stream().filter(r -> ValidRunPolicy.VALID.equals(r.runQuality())).toList();
      double[] ttft = valid.stream().mapToDouble(RunRecord::ttftMs).sorted().toArray();
      double[] tps = valid.stream().mapToDouble(RunRecord::tokensPerSecond).sorted().toArray();
      out.put(digest, new Stats(runs.size(), failed, valid.size(), quantile(ttft, 0.95), quantile(tps, 0.5)));
    });
    return new VersionStats(out);
  }

  /** The nearest-rank quantile of sorted values; 0 for none. */
  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) return 0;
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private void record(RunRecord r0) {
    RunRecord r = r0;
    if (sidecarSource != null) {
      if (r.sidecar() == null) r = r.withSidecar(sidecar.latest(List.of(io.dalang.gpu.GpuSidecar.absent())));
      r = ValidRunPolicy.withSidecar(r, sidecar.since(r.receivedAtEpochMs()));
    }
    keep(r, append(r));
    // The catalog version that served the run ("" for a model_path pool or a remote): few per model, so a
    // rollout's or a split's versions compare on a dashboard without the run log.
    String version = r.modelVersion() == null ? "" : r.modelVersion();
    var tags = List.of(io.micrometer.core.instrument.Tag.of("model", r.model()), io.micrometer.core.instrument.Tag.of("model_version", version),
        io.micrometer.core.instrument.Tag.of("outcome", r.outcome()));
    metrics.counter("dalang_runs", tags).increment();
    if (!ValidRunPolicy.VALID.equals(r.runQuality())) return; // KPIs take valid runs only, always
    DistributionSummary.builder("dalang_ttft_ms").tag("model", r.model()).tag("model_version", version).publishPercentileHistogram()
        .register(metrics).record(r.ttftMs());
    if (r.meanInterTokenMs() > 0) {
      DistributionSummary.builder("dalang_inter_token_latency_ms").description("Mean time between tokens of a run")
          .tag("model", r.model()).tag("model_version", version).publishPercentileHistogram().register(metrics).record(r.meanInterTokenMs());
    }
    DistributionSummary.builder("dalang_tokens_per_second").tag("model", r.model()).tag("model_version", version).register(metrics)
        .record(r.tokensPerSecond());
    DistributionSummary.builder("dalang_queue_ms").tag("model", r.model()).register(metrics).record(r.queueMs());
    DistributionSummary.builder("dalang_orchestration_overhead_ratio").tag("model", r.model()).register(metrics)
        .record(r.orchestrationOverheadRatio());
  }

  /** Appends {@code r} to the runs file; returns the length of its JSON line. */
  private int append(RunRecord r) {
    String json;
    try {
      json = JSON.writeValueAsString(r);
    } catch (IOException e) {
      ctx.getLog().warn("telemetry: cannot write run {} as JSON: {}", r.runId(), e.getMessage());
      return 0;
    }
    try {
      if (writer == null) {
        PrivateFiles.createDirectories(runsFile.getParent());
        writer = PrivateFiles.appender(runsFile);
      }
      writer.write(json);
      writer.newLine();
      writer.flush();
    } catch (IOException e) {
      ctx.getLog().warn("telemetry: cannot append to {}: {}", runsFile, e.getMessage());
      closeWriter();
    }
    return json.length();
  }

  private void closeWriter() {
    if (writer == null) return;
    try {
      writer.close();
    } catch (IOException e) {
      ctx.getLog().debug("closing {} failed", runsFile, e);
    }
    writer = null;
  }
}
