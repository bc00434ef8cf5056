package io.dalang.runtime.bench;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.bench.load.LoadGenerator;
import io.dalang.runtime.bench.load.LoadReport;
import io.dalang.runtime.bench.load.LoadSpec;
import io.dalang.runtime.bench.load.ProcStats;
import io.dalang.runtime.http.HttpClients;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang bench gateway}: what a Dalang node adds in front of an OpenAI-compatible engine when the
 * engine costs nothing. It starts {@code dalang sim engine} and a Dalang node as child JVMs, the node
 * pinned to its own CPU ({@code --cpu-dalang}), the sim engine and this JVM (the load generator) to
 * another ({@code --cpu-sim}); the node serves an {@code openai-upstream} pool in front of the sim
 * engine, granted to the demo tenant, with sequences and queue too large to limit anything. For each
 * concurrency level the same load ({@link LoadGenerator}) runs directly against the sim engine and
 * through Dalang, in rounds that alternate which side goes first, and the report gives Dalang's added
 * TTFT and inter-token gap, the throughput ratio, Dalang's CPU per relayed token and per request (from
 * {@code /proc/<pid>/stat}) and its resident memory per open stream (from {@code /proc/<pid>/status}),
 * with the targets of issue 19 beside each figure.
 *
 * <p>Each level gets its own sim engine (its own provider and pool in the node), because the ITL that
 * keeps the load generator and the sim engine from being the bottleneck depends on the concurrency
 * ({@code --itl-ms auto}: {@code max(10 ms, concurrency / 4 ms)}, at most 4,000 tokens/s in all).
 */
@Command(name = "gateway", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Dalang's overhead as a gateway: the same load directly against dalang sim engine and through a Dalang node (openai-upstream pool), per concurrency level, in one run.",
        "Both run as child JVMs, Dalang pinned to its own CPU with taskset; all on loopback. Logs go to stderr; stdout holds only the report."})
public final class GatewayBench implements Callable<Integer> {
  static final String SIM_MODEL = "sim";
  private static final Duration READY_TIMEOUT = Duration.ofMinutes(3);

  @Option(names = "--concurrency", defaultValue = "1,64,1000", split = ",", description = "Concurrency levels (default ${DEFAULT-VALUE})")
  int[] levels;

  @Option(names = "--requests", split = ",",
      description = "Requests per side per level, split over the rounds: one figure, or one per level (default: max(300, 3 x concurrency))")
  int[] requests;

  @Option(names = "--rounds", defaultValue = "3", description = "Rounds per level, alternating which side goes first (default ${DEFAULT-VALUE})")
  int rounds;

  @Option(names = "--stream", defaultValue = "true", arity = "1", description = "Streamed requests (default ${DEFAULT-VALUE}); false measures whole answers (requests/s)")
  boolean stream;

  @Option(names = "--ttft-ms", defaultValue = "5", description = "The sim engine's TTFT, ms (default ${DEFAULT-VALUE})")
  double ttftMs;

  @Option(names = "--itl-ms", defaultValue = "auto", description = "The sim engine's ITL, ms, or auto: max(10, concurrency / 4) (default ${DEFAULT-VALUE})")
  String itlMs;

  @Option(names = "--output-tokens", defaultValue = "32", description = "Tokens per answer (default ${DEFAULT-VALUE})")
  int outputTokens;

  @Option(names = "--prompt-tokens", defaultValue = "32", description = "Words per prompt (default ${DEFAULT-VALUE})")
  int promptTokens;

  @Option(names = "--warmup-seconds", defaultValue = "30", description = "Discarded load on both sides before the first level (default ${DEFAULT-VALUE})")
  int warmupSeconds;

  @Option(names = "--cpu-sim", defaultValue = "0", description = "CPU list for the sim engine and this JVM (taskset -c; empty: not pinned) (default ${DEFAULT-VALUE})")
  String cpuSim;

  @Option(names = "--cpu-dalang", defaultValue = "1", description = "CPU list for the Dalang node (taskset -c; empty: not pinned) (default ${DEFAULT-VALUE})")
  String cpuDalang;

  @Option(names = "--dalang-jvm-options", defaultValue = "", description = "JVM options of the Dalang node, space-separated (default: none)")
  String dalangJvmOptions;

  @Option(names = "--json", description = "Print one JSON object instead of the tables")
  boolean json;

  private final HttpClient admin = HttpClients.create();
  private LoadGenerator load;
  private String adminKey;
  private URI edge;

  @Override
  public Integer call() throws Exception {
    if (rounds < 1 || levels.length == 0 || Arrays.stream(levels).anyMatch(c -> c < 1) || outputTokens < 1
        || requests != null && requests.length != 1 && requests.length != levels.length) {
      System.err.println("dalang bench gateway: needs --rounds >= 1, --concurrency levels >= 1, --output-tokens >= 1, and one --requests or one per level");
      return 2;
    }
    // The client keeps each side's connections alive after its phase; at 10,000 streams the other side's
    // 10,000 then count against this JVM's open files too (20,000 here). Idle ones close after 2 s, and
    // each phase starts 3 s after the last. Must be set before the JDK's HTTP client is first loaded.
    System.setProperty("jdk.httpclient.keepalive.timeout", "2");
    load = new LoadGenerator(LoadGenerator.newClient());
    boolean pinned = ChildJvm.pinSelf(cpuSim);
    System.err.printf("bench: load generator %s%n", pinned ? "pinned to CPU " + cpuSim : "not pinned (no taskset or --cpu-sim '')");
    Path dir = Files.createTempDirectory("dalang-bench-gateway-");
    var results = new ArrayList<GatewayLevel>();
    try (ChildJvm node = startNode(dir)) {
      String demoKey = Files.readString(dir.resolve("demo.key")).strip();
      for (int i = 0; i < levels.length; i++) {
        int c = levels[i];
        int n = requests == null ? Math.max(300, 3 * c) : requests[requests.length == 1 ? 0 : i];
        results.add(level(dir, node, demoKey, c, Math.max(rounds, n), i == 0));
        if (!json) System.err.print(results.get(results.size() - 1).table());
      }
    } finally {
      OverheadBench.deleteTree(dir);
    }
    print(results);
    return results.stream().anyMatch(r -> r.directSide().errors() + r.throughSide().errors() > 0) ? 1 : 0;
  }

  private void print(List<GatewayLevel> results) throws IOException {
    if (json) {
      var m = new LinkedHashMap<String, Object>();
      m.put("machine", Map.of("cpus", Runtime.getRuntime().availableProcessors(), "os", System.getProperty("os.name") + " " + System.getProperty("os.version"),
          "java", System.getProperty("java.version")));
      m.put("cpu_sim", cpuSim);
      m.put("cpu_dalang", cpuDalang);
      m.put("pinned", ChildJvm.canPin());
      m.put("ttft_ms", ttftMs);
      m.put("output_tokens", outputTokens);
      m.put("levels", results.stream().map(GatewayLevel::toMap).toList());
      System.out.println(Json.MAPPER.writeValueAsString(m));
      return;
    }
    var sb = new StringBuilder();
    sb.append(String.format("Dalang as a gateway: direct to dalang sim engine vs through one Dalang node (openai-upstream pool)%n"));
    sb.append(String.format("sim TTFT %.1f ms, %d output tokens, %d prompt words; Dalang on CPU %s, sim engine and load generator on CPU %s%s%n%n",
        ttftMs, outputTokens, promptTokens, cpuDalang, cpuSim, ChildJvm.canPin() ? "" : " (taskset missing: not pinned)"));
    for (GatewayLevel r : results) sb.append(r.table()).append('\n');
    System.out.print(sb);
  }

  /** The node, on a temp data dir with limits raised so that only Dalang's own costs show. */
  private ChildJvm startNode(Path dir) throws Exception {
    String demoKey = "dlg-bench-" + UUID.randomUUID();
    Files.writeString(dir.resolve("demo.key"), demoKey);
    Path conf = dir.resolve("bench.conf");
    Files.writeString(conf, """
        # dalang bench gateway: nothing but Dalang's own cost may limit the load.
        dalang.http.max-connections-per-address = 1000000
        pekko.http.server.max-connections = 65536
        pekko.http.server.backlog = 8192
        dalang.admission.capacity = 100000
        dalang.admission.tenant-share = 100000
        dalang.engine.max-queued = 100000
        dalang.demo.embed-pool = ""
        """);
    int http = freePort();
    var args = new ArrayList<>(List.of("serve", "--data-dir", dir.resolve("data").toString(), "--http-port", String.valueOf(http),
        "--grpc-port", String.valueOf(freePort()), "--cluster-port", "0", "--engine", "simulated", "--config", conf.toString()));
    List<String> jvm = dalangJvmOptions.isBlank() ? List.of() : List.of(dalangJvmOptions.strip().split("\\s+"));
    var node = ChildJvm.start(cpuDalang, jvm, args, Map.of("DALANG_DEMO_KEY", demoKey), dir.resolve("node.log"));
    edge = URI.create("http://127.0.0.1:" + http);
    System.err.printf("bench: Dalang node pid %d on %s (log %s)%n", node.pid(), edge, node.log);
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (true) {
      try {
        var r = admin.send(HttpRequest.newBuilder(edge.resolve("/readyz")).timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) break;
      } catch (IOException e) {
        // not listening yet
      }
      if (!node.process.isAlive()) throw new IOException("the Dalang node exited with " + node.process.exitValue() + "; see " + node.log);
      if (System.nanoTime() > deadline) throw new IOException("the Dalang node was not ready within " + READY_TIMEOUT.toSeconds() + " s; see " + node.log);
      Thread.sleep(250);
    }
    adminKey = Files.readString(dir.resolve("data").resolve("admin.key")).strip();
    return node;
  }

  private double itlFor(int concurrency) {
    return itlMs.equals("auto") ? Math.max(10, concurrency / 4.0) : Double.parseDouble(itlMs);
  }

  private GatewayLevel level(Path dir, ChildJvm node, String demoKey, int c, int n, boolean first) throws Exception {
    double itl = itlFor(c);
    String name = "bench-c" + c + (stream ? "" : "-whole");
    var simArgs = List.of("sim", "engine", "--port", "0", "--model", SIM_MODEL, "--ttft-ms", String.valueOf(ttftMs), "--itl-ms", String.valueOf(itl),
        "--output-tokens", String.valueOf(outputTokens), "--max-sequences", "100000", "--seed", "1");
    try (ChildJvm sim = ChildJvm.start(cpuSim, List.of(), simArgs, Map.of(), dir.resolve(name + "-sim.log"))) {
      String base = sim.awaitLine("sim engine listening on ", 120_000);
      System.err.printf("bench: level %d: sim engine pid %d at %s, ITL %.1f ms%n", c, sim.pid(), base, itl);
      // One upstream with a sequence for every stream: the pool never queues.
      String provider = name + "-sim";
      adminPost("/admin/v1/providers", Map.of("name", provider, "base_url", base, "models", List.of(SIM_MODEL), "allow_private", true));
      var upstreams = List.of(Map.<String, Object>of("provider", provider, "model", SIM_MODEL, "max_sequences", Math.max(1, c)));
      adminPost("/admin/v1/pools", Map.of("id", name, "engine", "openai-upstream", "model_id", name, "upstreams", upstreams));
      adminPost("/admin/v1/tenants/demo/pools", Map.of("pool", name));
      awaitReadyPool(name);
      var direct = spec(URI.create(base), SIM_MODEL, null, c);
      var through = spec(edge.resolve("/v1"), name, demoKey, c);
      if (first) warmUp(direct, through);
      var d = new ArrayList<LoadReport>();
      var g = new ArrayList<LoadReport>();
      long pid = node.pid();
      var cpu = new AtomicLong();
      var idle = new AtomicLong();
      long rssIdle = ProcStats.rssBytes(pid);
      var peak = new long[2];
      for (int r = 0; r < rounds; r++) {
        int perRound = n / rounds + (r < n % rounds ? 1 : 0);
        if (r % 2 == 0) {
          d.add(measure(direct.withRequests(perRound, c), pid, idle, null, "direct"));
          g.add(measure(through.withRequests(perRound, c), pid, cpu, peak, "dalang"));
        } else {
          g.add(measure(through.withRequests(perRound, c), pid, cpu, peak, "dalang"));
          d.add(measure(direct.withRequests(perRound, c), pid, idle, null, "direct"));
        }
        rssIdle = Math.min(rssIdle, ProcStats.rssBytes(pid));
      }
      return new GatewayLevel(c, stream, itl, d, g, cpu.get(), idle.get(), rssIdle, peak[0], (int) peak[1]);
    }
  }

  private LoadSpec spec(URI base, String model, String key, int c) {
    return new LoadSpec(base, model, key, c, 0, 1, Duration.ZERO, stream, new LoadSpec.Dist(promptTokens, promptTokens),
        new LoadSpec.Dist(outputTokens, outputTokens), 1, Duration.ofMinutes(10));
  }

  /**
   * Discarded load on both sides until {@code --warmup-seconds} have passed, so that the JITs of all three
   * JVMs have compiled the paths (in a first try with 5 s, the C2 compiler on Dalang's one core showed in
   * the CPU per token of the first levels).
   */
  private void warmUp(LoadSpec direct, LoadSpec through) throws InterruptedException {
    // 64 streams whatever the level: enough to run every path hot, few enough for any machine.
    int c = 64;
    long until = System.nanoTime() + Duration.ofSeconds(warmupSeconds).toNanos();
    System.err.printf("bench: warming up for %d s%n", warmupSeconds);
    do {
      load.run(direct.withRequests(4 * c, c));
      load.run(through.withRequests(4 * c, c));
    } while (System.nanoTime() < until);
  }

  /**
   * One phase; adds the node's CPU time during it to {@code cpu}; with {@code peak}, samples the node's
   * RSS every 200 ms while at least 90% of the streams are open and keeps the highest with the streams open then.
   */
  private LoadReport measure(LoadSpec spec, long pid, AtomicLong cpu, long[] peak, String side) throws Exception {
    System.err.printf("bench: %s, concurrency %d, %d requests%n", side, spec.concurrency(), spec.requests());
    var sampling = new AtomicInteger(1);
    Thread sampler = null;
    if (peak != null) {
      sampler = new Thread(() -> {
        while (sampling.get() == 1) {
          int open = load.inFlight();
          if (open >= 0.9 * spec.concurrency()) {
            try {
              long rss = ProcStats.rssBytes(pid);
              synchronized (peak) {
                if (rss > peak[0]) {
                  peak[0] = rss;
                  peak[1] = open;
                }
              }
            } catch (IOException e) {
              // out of files at 10,000 streams: this sample is lost, not the phase
            }
          }
          try {
            Thread.sleep(200);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "bench-rss");
      sampler.setDaemon(true);
      sampler.start();
    }
    Thread.sleep(3000); // the previous phase's idle connections close (see call())
    long before = ProcStats.cpuNanos(pid);
    LoadReport r = load.run(spec);
    cpu.addAndGet(ProcStats.cpuNanos(pid) - before);
    sampling.set(0);
    if (sampler != null) sampler.join();
    if (r.errorCount() > 0) System.err.printf("bench: %s errors %s%n", side, r.errors());
    return r;
  }

  private void adminPost(String path, Object body) throws Exception {
    var r = admin.send(HttpRequest.newBuilder(edge.resolve(path)).timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + adminKey)
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(Json.MAPPER.writeValueAsBytes(body))).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) throw new IOException("POST " + path + ": HTTP " + r.statusCode() + " " + r.body());
  }

  private void awaitReadyPool(String pool) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      var r = admin.send(HttpRequest.newBuilder(edge.resolve("/admin/v1/pools/" + pool)).timeout(Duration.ofSeconds(10))
          .header("Authorization", "Bearer " + adminKey).GET().build(), HttpResponse.BodyHandlers.ofString());
      last = r.body();
      if (r.statusCode() == 200) {
        JsonNode slots = Json.MAPPER.readTree(r.body()).path("slots");
        int ready = 0;
        for (JsonNode s : slots) if (s.path("state").asText().equals("Ready")) ready++;
        if (ready > 0 && ready == slots.size()) return;
      }
      Thread.sleep(250);
    }
    throw new IOException("pool " + pool + " has no Ready slot within " + READY_TIMEOUT.toSeconds() + " s: " + last);
  }

  private static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
