package io.dalang.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory estimate against reality: llama-server loads each generated model and logs its own
 * buffer sizes (model, KV cache, compute, output); the estimate must match weights and KV exactly and
 * the total within the stated bound, never below it.
 */
class MemoryEstimatorTest {
  static final Pattern BUFFER = Pattern.compile("(CPU_Mapped model|CPU KV|CPU compute|CPU\\s+output) buffer size =\\s+([0-9.]+) MiB");
  static final double MAX_OVER_ESTIMATE = 0.25;
  @TempDir static Path dir;

  @ParameterizedTest(name = "{0} layers × {1} wide, {2} heads / {3} kv, ff {4}, {5}, ctx {6} × {7}")
  @CsvSource({
      "2, 64, 4, 4, 128, F32, 512, 1",
      "2, 64, 4, 4, 128, F32, 2048, 2",
      "4, 256, 8, 8, 512, F16, 1024, 4",
      "6, 384, 6, 2, 1024, F16, 2048, 2",
      "6, 384, 6, 2, 1024, F32, 512, 1"})
  void theEstimateBoundsWhatLlamaServerAllocates(int layers, int width, int heads, int kvHeads, int ff, GgmlType type, int ctx, int parallel)
      throws Exception {
    Path model = dir.resolve("m-" + layers + "x" + width + "-" + kvHeads + "-" + type + ".gguf");
    if (!Files.exists(model)) TinyModel.write(new TinyModel.Spec(1, layers, width, heads, kvHeads, ff, 4096, type), model);
    Map<String, Double> mib = buffers(model, ctx * parallel, parallel);
    var est = MemoryEstimator.estimate(GgufReader.read(model), ctx, parallel, 0);

    assertEquals(mib.get("CPU_Mapped model"), est.weightsBytes() / 1048576.0, 0.01, "weights are exact");
    assertEquals(mib.get("CPU KV"), est.kvCacheBytes() / 1048576.0, 0.01, "the KV cache is exact");
    double actual = mib.values().stream().mapToDouble(Double::doubleValue).sum();
    double estimated = est.totalBytes() / 1048576.0;
    System.out.printf("%s ctx %d×%d: estimated %.2f MiB, llama-server %.2f MiB (%+.1f%%)%n", model.getFileName(), ctx, parallel,
        estimated, actual, (estimated / actual - 1) * 100);
    assertTrue(estimated >= actual, "never under: " + estimated + " < " + actual + " " + mib);
    assertTrue(estimated <= actual * (1 + MAX_OVER_ESTIMATE), "at most 25% over: " + estimated + " vs " + actual + " " + mib);
  }

  /** Starts llama-server verbosely on the model, reads its buffer sizes from the log, stops it. */
  static Map<String, Double> buffers(Path model, int totalCtx, int parallel) throws Exception {
    Path log = dir.resolve(model.getFileName() + "-" + totalCtx + ".log");
    var p = new ProcessBuilder(List.of(TestModels.llamaServerBinary().toString(), "-m", model.toString(), "--host", "127.0.0.1",
        "--port", "0", "-c", String.valueOf(totalCtx), "-np", String.valueOf(parallel), "-t", "1", "-v", "--no-webui"))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      Map<String, Double> found = new HashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (found.size() < 4 && System.nanoTime() < deadline && p.isAlive()) {
        Thread.sleep(100);
        found.clear();
        Matcher m = BUFFER.matcher(Files.readString(log, StandardCharsets.UTF_8));
        // The server reports a dry run first; the last report of each buffer is the real one.
        while (m.find()) found.put(m.group(1).replaceAll("\\s+", " "), Double.parseDouble(m.group(2)));
        if (found.size() == 4 && !Files.readString(log).contains("model loaded")) found.clear();
      }
      assertEquals(4, found.size(), "buffer sizes in " + Files.readString(log));
      return found;
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }
}
