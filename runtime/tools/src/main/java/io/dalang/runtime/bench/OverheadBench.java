package io.dalang.runtime.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.runtime.http.HttpClients;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang bench overhead}: what Dalang adds on top of calling llama-server directly. It starts a
 * Dalang node in-process on the llama-server engine and sends the same streaming chat request both to
 * that slot's own llama-server ("direct") and through Dalang's API ("dalang"). Both sides hit the same
 * engine process from the same client in the same run, so the differences are Dalang's: auth,
 * placement, queueing, the actor hop and the SSE relay.
 *
 * <p>Phases alternate direct/dalang/direct/dalang after a discarded warm-up, so drift (other load on
 * the machine, caches, JIT) hits both sides alike. A request's TTFT runs from sending it to the first
 * SSE chunk with non-empty {@code choices[0].delta.content}; its total time to the end of the stream.
 */
@Command(name = "overhead", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Dalang's added latency and throughput cost over calling its llama-server directly, measured in one run against one llama-server process.",
        "Logs go to stderr; stdout holds only the report. Exit code 1 if more than 1%% of the measured requests failed.",
        "Dalang answers 429 beyond the slot's parallel sequences plus dalang.engine.max-queued (4 + 64 by default), so keep --concurrency within that."})
public final class OverheadBench implements Callable<Integer> {
  static final String MODEL = "dalang-demo";
  private static final ObjectMapper JSON = Json.MAPPER;
  private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);
  // The walking skeleton's target for Dalang's overhead at 64 streams.
  static final double TARGET_ADDED_TTFT_P50_MS = 1;
  static final double TARGET_ADDED_TTFT_P99_MS = 3;
  static final double TARGET_THROUGHPUT_RATIO = 0.98;
  // CPU time of this JVM (bench client plus node): on a small machine the node's CPU competes with
  // llama-server's, which shows up in throughput_ratio; this says how much of it there is.
  private static final com.sun.management.OperatingSystemMXBean CPU =
      (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  @Option(names = "--concurrency", defaultValue = "8", description = "Requests in flight at a time (default ${DEFAULT-VALUE})")
  int concurrency;

  @Option(names = "--requests", defaultValue = "200",
      description = "Measured requests per side, split over its --rounds phases (default ${DEFAULT-VALUE})")
  int requests;

  @Option(names = "--rounds", defaultValue = "3",
      description = "Rounds of one direct and one Dalang phase each, alternating which goes first (default ${DEFAULT-VALUE})")
  int rounds;

  @Option(names = "--max-tokens", defaultValue = "64", description = "max_tokens of each request (default ${DEFAULT-VALUE})")
  int maxTokens;

  @Option(names = "--warmup-seconds", defaultValue = "15",
      description = "Least time spent on discarded warm-up rounds before measuring (default ${DEFAULT-VALUE})")
  int warmupSeconds;

  @Option(names = "--config", description = "HOCON file whose keys override the defaults (e.g. dalang.engine.llama-server-args)")
  java.nio.file.Path config;

  @Option(names = "--json", description = "Print one JSON object instead of the table")
  boolean json;

  private HttpClient client;
  private ExecutorService workers;
  private byte[] body;
  private volatile ProcessHandle engine;

  @Override
  public Integer call() throws Exception {
    if (concurrency < 1 || rounds < 1 || requests < rounds || maxTokens < 1) {
      System.err.println("dalang bench overhead: needs --concurrency >= 1, --rounds >= 1, --requests >= --rounds, --max-tokens >= 1");
      return 2;
    }
    PrintStream stdout = System.out;
    // The node logs through logback's console appender, which writes to whatever System.out is at the
    // time: point it at stderr so that stdout holds only the report (the one JSON object with --json).
    System.setOut(System.err);
    try {
      Path dir = Files.createTempDirectory("dalang-bench-");
      Result result;
      try {
        result = run(dir);
      } finally {
        deleteTree(dir);
      }
      stdout.println(json ? JSON.writeValueAsString(result.toMap()) : result.table());
      stdout.flush();
      return result.errorRate() > 0.01 ? 1 : 0;
    } finally {
      System.setOut(stdout);
    }
  }

  private Result run(Path dir) throws Exception {
    body = JSON.writeValueAsBytes(Map.of(
        "model", MODEL,
        "messages", List.of(Map.of("role", "user", "content", "Write a short story about a lighthouse keeper.")),
        "stream", true, "max_tokens", maxTokens, "temperature", 0, "seed", 1));
    // One client for both sides. Its HTTP/1.1 pool is unbounded, so it holds one connection per stream
    // in flight on each side; its own threads only move bytes, our workers parse.
    client = HttpClients.builder()
        .executor(Executors.newCachedThreadPool(daemon("bench-http"))).build();
    workers = Executors.newCachedThreadPool(daemon("bench-worker"));
    String key = "dlg-bench-" + UUID.randomUUID();
    var options = new ServeOptions(dir, 0, null, 0, withHttpThreads(dir), "llama-server", key);
    try (DalangNode node = DalangNode.start(options, System.err)) {
      URI edge = URI.create("http://127.0.0.1:" + node.httpPort());
      SlotStatus slot = awaitReadySlot(node, edge);
      engine = engineProcess(slot.engineUrl());
      // Dalang gives each llama-server it starts a random key (docs/security.md): the direct side sends it too.
      String engineKey = engineKey(engine);
      if (engineKey == null) throw new IllegalStateException("cannot read the key of the llama-server Dalang started (its environment)");
      var direct = new Target("direct", URI.create(slot.engineUrl()).resolve("/v1/chat/completions"), "Bearer " + engineKey);
      var dalang = new Target("dalang", edge.resolve("/v1/chat/completions"), "Bearer " + key);
      warmUp(direct, dalang);
      var d = new ArrayList<Phase>();
      var g = new ArrayList<Phase>();
      // Rounds alternate which side goes first, so that a drift in the machine's speed (other tenants
      // of the host, thermal limits) falls on both sides alike; the per-round ratios show its size.
      for (int r = 0; r < rounds; r++) {
        int n = requests / rounds + (r < requests % rounds ? 1 : 0);
        if (r % 2 == 0) {
          d.add(phase(direct, n));
          g.add(phase(dalang, n));
        } else {
          g.add(phase(dalang, n));
          d.add(phase(direct, n));
        }
      }
      return new Result(concurrency, requests, maxTokens, slot.engineKind() + " " + slot.engineVersion(), new Side(d), new Side(g));
    } finally {
      workers.shutdownNow();
    }
  }

  /**
   * The node's config: {@code --config}'s keys, and enough HTTP threads in llama-server for the direct
   * side. llama-server serves each connection on one thread of a pool of {@code max(parallel + 2, cores - 1)}
   * threads, so 64 keep-alive connections from the benchmark's client would wait for 6 threads and the
   * direct side would measure that pool instead of the engine; Dalang itself holds at most a slot's
   * sequences plus its lookahead open. Without this the direct baseline ran about 10% slower and Dalang
   * looked faster than direct.
   */
  private Path withHttpThreads(Path dir) throws IOException {
    Config user = config != null ? ConfigFactory.parseFile(config.toFile()) : ConfigFactory.empty();
    String key = "dalang.engine.llama-server-args";
    List<String> args = new ArrayList<>(user.hasPath(key) ? user.getStringList(key) : List.of());
    if (!args.contains("--threads-http")) args.addAll(List.of("--threads-http", String.valueOf(concurrency + 8)));
    Path file = dir.resolve("bench.conf");
    Files.writeString(file, user.withValue(key, ConfigValueFactory.fromIterable(args)).root().render(ConfigRenderOptions.concise()));
    return file;
  }

  /**
   * Discarded rounds on both paths until the JIT has settled: at least {@code --warmup-seconds}, then
   * until a round of both sides costs less than 2% of its time in compilation (at most 3× the
   * minimum). Without it the measured phases pay for compiling the Dalang path (most of Pekko HTTP and
   * streams), which a long-running server pays once, and the CPU figures mostly show the compiler.
   */
  private void warmUp(Target direct, Target dalang) throws InterruptedException {
    var jit = ManagementFactory.getCompilationMXBean();
    long start = System.nanoTime();
    long min = TimeUnit.SECONDS.toNanos(warmupSeconds);
    int perRound = Math.max(2 * concurrency, 16);
    System.err.printf("bench: direct %s, dalang %s; warming up for at least %d s%n", direct.uri, dalang.uri, warmupSeconds);
    while (true) {
      long c0 = jit.getTotalCompilationTime();
      long t0 = System.nanoTime();
      phase(direct, perRound);
      phase(dalang, perRound);
      double jitShare = (jit.getTotalCompilationTime() - c0) * 1e6 / (System.nanoTime() - t0);
      long elapsed = System.nanoTime() - start;
      if (elapsed >= min && jitShare < 0.02 || elapsed >= 3 * min) {
        System.err.printf("bench: warm after %.1f s (last round %.1f%% in the JIT compiler)%n", elapsed / 1e9, jitShare * 100);
        return;
      }
    }
  }

  /** Waits for {@code /readyz} and then for the demo slot's status carrying its llama-server URL. */
  private SlotStatus awaitReadySlot(DalangNode node, URI edge) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    var readyz = HttpRequest.newBuilder(edge.resolve("/readyz")).timeout(Duration.ofSeconds(5)).GET().build();
    String last = "no answer yet";
    while (System.nanoTime() < deadline) {
      try {
        var r = client.send(readyz, HttpResponse.BodyHandlers.ofString());
        last = "/readyz " + r.statusCode() + " " + r.body();
        if (r.statusCode() == 200) {
          var slot = node.fleet().toCompletableFuture().get(10, TimeUnit.SECONDS).slots().stream()
              .filter(s -> s.ready() && s.modelId().equals(MODEL)).findFirst();
          if (slot.isPresent() && !slot.get().engineUrl().isBlank()) return slot.get();
          last = "slot " + slot.map(SlotStatus::toString).orElse("of " + MODEL + " not in the fleet") + " has no engine URL";
        }
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(250);
    }
    throw new IllegalStateException("no Ready llama-server slot of " + MODEL + " within " + READY_TIMEOUT.toSeconds() + " s: " + last);
  }

  private record Target(String name, URI uri, String auth) {}

  /** One request's numbers, in milliseconds from sending it. */
  record Sample(double ttftMs, double totalMs, int tokens, boolean retried) {}

  record Phase(List<Sample> samples, int errors, long wallNanos, long cpuNanos, long engineCpuNanos) {}

  /** The llama-server process that serves {@code engineUrl}, found by its {@code --port}; null if not visible. */
  private static ProcessHandle engineProcess(String engineUrl) {
    String port = "--port " + URI.create(engineUrl).getPort() + " ";
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.contains("llama-server") && (c + " ").contains(port)).orElse(false))
        .findFirst().orElse(null);
  }

  /**
   * The key Dalang gave the llama-server it started ({@code LLAMA_API_KEY} in the child's environment,
   * which only the user that runs both may read, from {@code /proc/<pid>/environ}); null if not readable.
   */
  static String engineKey(ProcessHandle p) {
    if (p == null) return null;
    try {
      byte[] env = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc", String.valueOf(p.pid()), "environ"));
      for (String kv : new String(env, java.nio.charset.StandardCharsets.UTF_8).split("\0")) {
        if (kv.startsWith("LLAMA_API_KEY=")) return kv.substring("LLAMA_API_KEY=".length());
      }
      return null;
    } catch (java.io.IOException e) {
      return null;
    }
  }

  /** CPU time the engine process used so far, in nanoseconds; -1 where the OS does not say. */
  private long engineCpuNanos() {
    ProcessHandle p = engine;
    return p == null ? -1 : p.info().totalCpuDuration().map(Duration::toNanos).orElse(-1L);
  }

  /** Runs {@code n} requests against {@code t}, {@link #concurrency} in flight at a time. */
  private Phase phase(Target t, int n) throws InterruptedException {
    System.err.printf("bench: %s, %d requests%n", t.name, n);
    var inFlight = new Semaphore(concurrency);
    var samples = new ConcurrentLinkedQueue<Sample>();
    var errors = new AtomicInteger();
    long start = System.nanoTime();
    long cpuStart = CPU.getProcessCpuTime();
    long engineStart = engineCpuNanos();
    for (int i = 0; i < n; i++) {
      inFlight.acquire();
      workers.execute(() -> {
        try {
          samples.add(request(t));
        } catch (Exception e) {
          // Print the first few only: a broken side would otherwise flood stderr.
          if (errors.incrementAndGet() <= 3) System.err.println("bench: " + t.name + " request failed: " + e);
        } finally {
          inFlight.release();
        }
      });
    }
    inFlight.acquire(concurrency); // all done
    long engineEnd = engineCpuNanos();
    return new Phase(List.copyOf(samples), errors.get(), System.nanoTime() - start, CPU.getProcessCpuTime() - cpuStart,
        engineStart < 0 || engineEnd < 0 ? -1 : engineEnd - engineStart);
  }

  private Sample request(Target t) throws IOException, InterruptedException {
    var b = HttpRequest.newBuilder(t.uri).timeout(Duration.ofMinutes(5)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (t.auth != null) b.header("Authorization", t.auth);
    HttpRequest req = b.build();
    boolean retried = false;
    long sent = System.nanoTime();
    HttpResponse<Stream<String>> resp;
    try {
      resp = client.send(req, HttpResponse.BodyHandlers.ofLines());
    } catch (IOException e) {
      // llama-server closes keep-alive connections idle for 5 s, and the JDK client does not retry a POST
      // when it reused one that the server closed at that moment ("header parser received no bytes").
      // Usual clients retry that once on a fresh connection; so do we, restarting the clock.
      retried = true;
      sent = System.nanoTime();
      resp = client.send(req, HttpResponse.BodyHandlers.ofLines());
    }
    try (Stream<String> lines = resp.body()) {
      if (resp.statusCode() != 200) {
        String text = lines.collect(Collectors.joining(" "));
        throw new IOException("HTTP " + resp.statusCode() + ": " + text.substring(0, Math.min(300, text.length())));
      }
      long first = 0;
      int tokens = 0;
      boolean done = false;
      // Read to the end of the body, past [DONE], so the connection goes back to the pool for reuse.
      for (var it = lines.iterator(); it.hasNext(); ) {
        String line = it.next();
        if (!line.startsWith("data: ")) continue;
        String data = line.substring(6);
        if (data.equals("[DONE]")) {
          done = true;
          continue;
        }
        JsonNode chunk = JSON.readTree(data);
        if (chunk.has("error")) throw new IOException("error in the stream: " + chunk.get("error"));
        JsonNode content = chunk.path("choices").path(0).path("delta").path("content");
        if (content.isTextual() && !content.textValue().isEmpty()) {
          if (tokens == 0) first = System.nanoTime();
          tokens++;
        }
      }
      long end = System.nanoTime();
      if (!done) throw new IOException("the stream ended without [DONE] after " + tokens + " tokens");
      if (tokens == 0) throw new IOException("the stream carried no content, so it has no TTFT");
      return new Sample((first - sent) / 1e6, (end - sent) / 1e6, tokens, retried);
    } catch (UncheckedIOException e) { // what the lines stream throws when the connection breaks
      throw e.getCause();
    }
  }

  /** One side's phases taken together. */
  static final class Side {
    final int ok;
    final int errors;
    final double ttftP50;
    final double ttftP99;
    final double meanTtft;
    final double meanTotal;
    final long tokens;
    final double wallSeconds;
    final double cpuSeconds;
    /** CPU time of the llama-server process during this side's phases; NaN where unknown. */
    final double engineCpuSeconds;
    final long retries;
    final List<Phase> phases;

    Side(List<Phase> phases) {
      this.phases = List.copyOf(phases);
      List<Sample> all = phases.stream().flatMap(p -> p.samples().stream()).toList();
      double[] ttft = all.stream().mapToDouble(Sample::ttftMs).sorted().toArray();
      ok = all.size();
      errors = phases.stream().mapToInt(Phase::errors).sum();
      ttftP50 = percentile(ttft, 0.50);
      ttftP99 = percentile(ttft, 0.99);
      meanTtft = Arrays.stream(ttft).average().orElse(Double.NaN);
      meanTotal = all.stream().mapToDouble(Sample::totalMs).average().orElse(Double.NaN);
      tokens = all.stream().mapToLong(Sample::tokens).sum();
      wallSeconds = phases.stream().mapToLong(Phase::wallNanos).sum() / 1e9;
      cpuSeconds = phases.stream().mapToLong(Phase::cpuNanos).sum() / 1e9;
      engineCpuSeconds = phases.stream().anyMatch(p -> p.engineCpuNanos() < 0) ? Double.NaN
          : phases.stream().mapToLong(Phase::engineCpuNanos).sum() / 1e9;
      retries = all.stream().filter(Sample::retried).count();
    }

    double tokensPerSecond() {
      return tokens / wallSeconds;
    }

    double jvmCpuUsPerToken() {
      return cpuSeconds * 1e6 / tokens;
    }

    double engineCpuUsPerToken() {
      return engineCpuSeconds * 1e6 / tokens;
    }

    /** Nearest rank: the smallest sample with at least p of all samples at or below it. */
    static double percentile(double[] sorted, double p) {
      if (sorted.length == 0) return Double.NaN;
      return sorted[Math.max(0, (int) Math.ceil(p * sorted.length) - 1)];
    }
  }

  record Result(int concurrency, int requests, int maxTokens, String engine, Side direct, Side dalang) {
    double meanTokens() {
      return (double) (direct.tokens + dalang.tokens) / (direct.ok + dalang.ok);
    }

    double throughputRatio() {
      return dalang.tokensPerSecond() / direct.tokensPerSecond();
    }

    /** The throughput ratio of each round on its own: how much the machine drifted during the run. */
    List<Double> roundRatios() {
      var out = new ArrayList<Double>();
      for (int i = 0; i < Math.min(direct.phases.size(), dalang.phases.size()); i++) {
        Phase d = direct.phases.get(i);
        Phase g = dalang.phases.get(i);
        double dts = d.samples().stream().mapToLong(Sample::tokens).sum() / (d.wallNanos() / 1e9);
        double gts = g.samples().stream().mapToLong(Sample::tokens).sum() / (g.wallNanos() / 1e9);
        out.add(round(gts / dts));
      }
      return out;
    }

    /** Streaming time after the first token that Dalang adds, per token: the cost of the relay. */
    double relayUsPerToken() {
      return ((dalang.meanTotal - dalang.meanTtft) - (direct.meanTotal - direct.meanTtft)) / meanTokens() * 1000;
    }

    /** The median of {@link #roundRatios()}: less swayed by one round that the machine slowed down. */
    double medianRoundRatio() {
      double[] r = roundRatios().stream().mapToDouble(Double::doubleValue).sorted().toArray();
      if (r.length == 0) return Double.NaN;
      return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
    }

    /**
     * Whether this run meets the walking skeleton's target (added TTFT p50 at most 1 ms and p99 at most 3
     * ms, throughput at least 0.98 of direct); the issue sets it for 64 streams.
     */
    boolean meetsTarget() {
      return addedTtftP50() <= TARGET_ADDED_TTFT_P50_MS && addedTtftP99() <= TARGET_ADDED_TTFT_P99_MS
          && throughputRatio() >= TARGET_THROUGHPUT_RATIO;
    }

    /** Dalang's p50 TTFT minus direct's, in milliseconds. */
    double addedTtftP50() {
      return dalang.ttftP50 - direct.ttftP50;
    }

    /** Dalang's p99 TTFT minus direct's, in milliseconds. */
    double addedTtftP99() {
      return dalang.ttftP99 - direct.ttftP99;
    }

    int errors() {
      return direct.errors + dalang.errors;
    }

    double errorRate() {
      return errors() / (2.0 * requests);
    }

    Map<String, Object> toMap() {
      var m = new LinkedHashMap<String, Object>();
      m.put("added_ttft_p50_ms", round(addedTtftP50()));
      m.put("added_ttft_p99_ms", round(addedTtftP99()));
      m.put("throughput_ratio", round(throughputRatio()));
      m.put("relay_us_per_token", round(relayUsPerToken()));
      m.put("throughput_ratio_per_round", roundRatios());
      m.put("throughput_ratio_round_median", round(medianRoundRatio()));
      m.put("meets_target", meetsTarget());
      m.put("concurrency", concurrency);
      m.put("requests", requests);
      m.put("max_tokens", maxTokens);
      m.put("engine", engine);
      m.put("mean_tokens_per_request", round(meanTokens()));
      m.put("errors", errors());
      put(m, "direct_", direct);
      put(m, "dalang_", dalang);
      return m;
    }

    private static void put(Map<String, Object> m, String p, Side s) {
      m.put(p + "ttft_p50_ms", round(s.ttftP50));
      m.put(p + "ttft_p99_ms", round(s.ttftP99));
      m.put(p + "mean_ttft_ms", round(s.meanTtft));
      m.put(p + "mean_total_ms", round(s.meanTotal));
      m.put(p + "tokens", s.tokens);
      m.put(p + "wall_s", round(s.wallSeconds));
      m.put(p + "tokens_per_s", round(s.tokensPerSecond()));
      m.put(p + "ok", s.ok);
      m.put(p + "errors", s.errors);
      m.put(p + "retries", s.retries);
      m.put(p + "jvm_cpu_us_per_token", round(s.jvmCpuUsPerToken()));
      m.put(p + "engine_cpu_us_per_token", round(s.engineCpuUsPerToken()));
    }

    String table() {
      var sb = new StringBuilder();
      sb.append(String.format("Dalang overhead over direct %s: concurrency %d, %d requests per side, max_tokens %d, %.1f tokens/request%n%n",
          engine, concurrency, requests, maxTokens, meanTokens()));
      sb.append(String.format("%-20s %12s %12s %14s%n", "", "direct", "dalang", "dalang adds"));
      sb.append(String.format("%-20s %12.2f %12.2f %+14.2f%n", "TTFT p50 (ms)", direct.ttftP50, dalang.ttftP50, addedTtftP50()));
      sb.append(String.format("%-20s %12.2f %12.2f %+14.2f%n", "TTFT p99 (ms)", direct.ttftP99, dalang.ttftP99, addedTtftP99()));
      sb.append(String.format("%-20s %12.1f %12.1f %14s%n", "tokens/s", direct.tokensPerSecond(), dalang.tokensPerSecond(),
          String.format("ratio %.3f", throughputRatio())));
      sb.append(String.format("%-20s %s   (median %.3f)%n", "  ratio per round", roundRatios().stream().map(r -> String.format("%.3f", r))
          .collect(Collectors.joining("  ")), medianRoundRatio()));
      sb.append(String.format("%-20s %12s %12s %+14.1f%n", "relay (us/token)", "", "", relayUsPerToken()));
      sb.append(String.format("%-20s %12.1f %12.1f %+14.1f%n", "JVM CPU (us/token)", direct.jvmCpuUsPerToken(), dalang.jvmCpuUsPerToken(),
          dalang.jvmCpuUsPerToken() - direct.jvmCpuUsPerToken()));
      sb.append(String.format("%-20s %12.1f %12.1f %+14.1f%n", "engine CPU (us/tok)", direct.engineCpuUsPerToken(),
          dalang.engineCpuUsPerToken(), dalang.engineCpuUsPerToken() - direct.engineCpuUsPerToken()));
      sb.append(String.format("%-20s %12d %12d%n", "errors", direct.errors, dalang.errors));
      sb.append(String.format("%-20s %12d %12d%n", "stale-conn retries", direct.retries, dalang.retries));
      sb.append(String.format("%ntarget (added TTFT p50 <= %.0f ms, p99 <= %.0f ms, throughput >= %.2f of direct; set for 64 streams): %s%n",
          TARGET_ADDED_TTFT_P50_MS, TARGET_ADDED_TTFT_P99_MS, TARGET_THROUGHPUT_RATIO, meetsTarget() ? "met" : "not met"));
      return sb.toString();
    }

    private static double round(double v) {
      return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
    }
  }

  static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
