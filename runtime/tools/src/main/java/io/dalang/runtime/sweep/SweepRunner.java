package io.dalang.runtime.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.actors.slot.ModelSlotEntity;
import io.dalang.actors.telemetry.ValidRunPolicy;
import io.dalang.engine.Digests;
import io.dalang.runtime.http.HttpClients;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * Measures one model variant in a live slot: a Dalang node on its own data dir serves the variant from
 * one slot on a supervised llama-server (the same path as production traffic: HTTP API, admission, run
 * actor, engine actor, telemetry), and the preset's prompts go through {@code /v1/chat/completions}.
 * Throughput, TTFT and run quality come from each run's own telemetry record ({@code /v1/runs/{id}}),
 * never from the client's clock.
 */
final class SweepRunner {
  static final String MODEL_ID = "sweep";
  private static final ObjectMapper JSON = Json.MAPPER;
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

  private final SweepPreset preset;
  private final Path configFile;
  private final PrintStream progress;
  private final HttpClient http = HttpClients.create();

  /** What served the variant, from its slot's record. */
  record EngineFacts(String kind, String version, String digest) {}

  record VariantRun(EngineFacts engine, List<SweepAnalysis.Observation> runs) {}

  /** @param configFile HOCON for the nodes started here (may be null) */
  SweepRunner(SweepPreset preset, Path configFile, PrintStream progress) {
    this.preset = preset;
    this.configFile = configFile;
    this.progress = progress;
  }

  /** Serves {@code model} from a fresh node under {@code workDir}, runs the preset against it, stops the node. */
  VariantRun measure(String label, Path model, Path workDir) throws Exception {
    Path dataDir = workDir.resolve("data");
    Path models = dataDir.resolve("models");
    Files.createDirectories(models);
    Files.copy(model, models.resolve(MODEL_ID + ".gguf"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    int context = 4096;
    var conf = new StringBuilder();
    if (configFile != null) conf.append("include file(").append(JSON.writeValueAsString(configFile.toAbsolutePath().toString())).append(")\n");
    conf.append("dalang.demo { tenant = \"sweep\", pool = \"sweep\", model-id = \"").append(MODEL_ID).append("\", parallel = 1, threads = ")
        .append(preset.threads()).append(", context-per-sequence = ").append(context).append(" }\n");
    conf.append("dalang.engine.llama-server-args = ").append(JSON.writeValueAsString(preset.affinityArgs())).append('\n');
    Path confFile = workDir.resolve("node.conf");
    Files.writeString(confFile, conf);
    String key = "dlg-sweep-" + UUID.randomUUID();
    var options = new ServeOptions(dataDir, 0, null, 0, confFile, "llama-server", key);
    try (DalangNode node = DalangNode.start(options, new PrintStream(OutputStream.nullOutputStream()))) {
      URI edge = URI.create("http://127.0.0.1:" + node.httpPort());
      EngineFacts engine = awaitReady(node, edge, key);
      var runs = new ArrayList<SweepAnalysis.Observation>();
      var prompts = preset.prompts();
      for (int w = 0; w < preset.warmupSteps(); w++) {
        var p = prompts.get(w % prompts.size());
        progress.printf("sweep: %s warm-up %d/%d%n", label, w + 1, preset.warmupSteps());
        var o = generate(edge, key, p, -1 - w);
        var reasons = new ArrayList<>(o.reasons());
        reasons.add(0, "warmup");
        runs.add(new SweepAnalysis.Observation(o.promptId(), o.repeat(), o.pieces(), o.tokensPerSecond(), o.ttftMs(), reasons));
      }
      int total = preset.repeats() * prompts.size();
      int done = 0;
      for (int r = 0; r < preset.repeats(); r++) {
        for (var p : prompts) {
          var o = generate(edge, key, p, r);
          runs.add(o);
          done++;
          progress.printf("sweep: %s run %d/%d %s: %d tokens, %.1f tokens/s%s%n", label, done, total, p.id(), o.pieces().size(),
              o.tokensPerSecond(), o.valid() ? "" : " (invalid: " + String.join(", ", o.reasons()) + ")");
        }
      }
      return new VariantRun(engine, runs);
    }
  }

  /** One streamed chat generation, greedy, and its run record. */
  private SweepAnalysis.Observation generate(URI edge, String key, SweepPreset.Prompt p, int repeat) throws Exception {
    byte[] body = JSON.writeValueAsBytes(Map.of("model", MODEL_ID, "messages", List.of(Map.of("role", "user", "content", p.text())),
        "stream", true, "max_tokens", preset.maxTokens(), "temperature", 0, "seed", preset.seed()));
    var req = HttpRequest.newBuilder(edge.resolve("/v1/chat/completions")).header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json").timeout(Duration.ofMinutes(5)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    var resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    var pieces = new ArrayList<String>();
    var reasons = new ArrayList<String>();
    String runId = resp.headers().firstValue("x-dalang-run-id").orElse(null);
    try (var in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
      if (resp.statusCode() != 200) {
        String text = in.lines().reduce("", String::concat);
        String code = "http_" + resp.statusCode();
        try {
          code = JSON.readTree(text).path("error").path("code").asText(code);
        } catch (IOException notJson) {
          // keep the status
        }
        reasons.add(ValidRunPolicy.FAILED + code);
        progress.printf("sweep: %s failed with HTTP %d: %s%n", p.id(), resp.statusCode(), text);
        return new SweepAnalysis.Observation(p.id(), repeat, pieces, 0, 0, reasons);
      }
      boolean done = false;
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.startsWith("data: ")) continue;
        String data = line.substring(6).trim();
        if (data.equals("[DONE]")) {
          done = true;
          break;
        }
        JsonNode chunk = JSON.readTree(data);
        if (chunk.has("error")) {
          reasons.add(ValidRunPolicy.FAILED + chunk.path("error").path("code").asText("error"));
          continue;
        }
        JsonNode content = chunk.path("choices").path(0).path("delta").path("content");
        if (content.isTextual() && !content.asText().isEmpty()) pieces.add(content.asText());
      }
      if (!done && reasons.isEmpty()) reasons.add(ValidRunPolicy.TRUNCATED_STREAM);
    }
    JsonNode record = runRecord(edge, key, runId);
    double tps = 0;
    double ttft = 0;
    if (record == null) {
      reasons.add("no_run_record");
    } else {
      tps = record.path("tokens_per_second").asDouble();
      ttft = record.path("ttft_ms").asDouble();
      for (JsonNode r : record.path("quality_reasons")) if (!reasons.contains(r.asText())) reasons.add(r.asText());
      if (!"valid".equals(record.path("run_quality").asText()) && reasons.isEmpty()) reasons.add("invalid");
      if (reasons.isEmpty() && record.path("completion_tokens").asInt() != pieces.size()) reasons.add(ValidRunPolicy.TRUNCATED_STREAM);
    }
    return new SweepAnalysis.Observation(p.id(), repeat, List.copyOf(pieces), tps, ttft, List.copyOf(reasons));
  }

  /** The run's telemetry record; it is written as the run ends, so a moment after the stream may be needed. */
  private JsonNode runRecord(URI edge, String key, String runId) throws Exception {
    if (runId == null) return null;
    var req = HttpRequest.newBuilder(edge.resolve("/v1/runs/" + runId)).header("Authorization", "Bearer " + key).GET().build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      var r = http.send(req, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) return JSON.readTree(r.body());
      Thread.sleep(50);
    }
    return null;
  }

  private EngineFacts awaitReady(DalangNode node, URI edge, String key) throws Exception {
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    var readyz = HttpRequest.newBuilder(edge.resolve("/readyz")).timeout(Duration.ofSeconds(5)).GET().build();
    var sharding = ClusterSharding.get(node.system());
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        var r = http.send(readyz, HttpResponse.BodyHandlers.ofString());
        last = "/readyz " + r.statusCode();
        if (r.statusCode() == 200) {
          var view = sharding.entityRefFor(ModelSlotEntity.ENTITY_KEY, "sweep-0")
              .<ModelSlotEntity.SlotView>ask(ModelSlotEntity.GetSlot::new, Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
          if (view.engine() != null && "Ready".equals(view.state())) {
            return new EngineFacts(view.engine().engineKind(), view.engine().engineVersion(), view.engine().engineDigest());
          }
          last = "slot sweep-0 is " + view.state();
        }
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the variant's slot was not Ready within " + READY_TIMEOUT.toSeconds() + " s (" + last + ")");
  }

  static String digest(Path file) throws IOException {
    return Digests.sha256(file);
  }
}
