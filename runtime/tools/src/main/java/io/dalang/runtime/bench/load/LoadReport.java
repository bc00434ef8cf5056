package io.dalang.runtime.bench.load;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one load run measured, with {@code vllm bench serve}'s definitions: TTFT (sending to the first
 * output chunk), TPOT ({@code (e2e - ttft) / (output_tokens - 1)} per request with more than one
 * token), ITL (every gap between two output chunks of a stream), end-to-end latency, completed requests
 * and output tokens per second of the run's wall time, and the failures by kind. A non-streamed run has
 * no TTFT, TPOT or ITL.
 */
public record LoadReport(LoadSpec spec, int ok, Map<String, Long> errors, long outputTokens, double wallSeconds, int maxInFlight,
    LatencyHistogram ttft, LatencyHistogram tpot, LatencyHistogram itl, LatencyHistogram e2e) {

  public long errorCount() {
    return errors.values().stream().mapToLong(Long::longValue).sum();
  }

  public double requestsPerSecond() {
    return ok / wallSeconds;
  }

  public double outputTokensPerSecond() {
    return outputTokens / wallSeconds;
  }

  public Map<String, Object> toMap() {
    var m = new LinkedHashMap<String, Object>();
    m.put("url", spec.baseUrl().toString());
    m.put("model", spec.model());
    m.put("stream", spec.stream());
    if (spec.rate() > 0) m.put("rate", spec.rate());
    m.put("concurrency", spec.concurrency());
    m.put("prompt_tokens", spec.promptTokens().toString());
    m.put("max_tokens", spec.maxTokens().toString());
    m.put("completed", ok);
    m.put("failed", errorCount());
    m.put("errors", new TreeMap<>(errors));
    m.put("max_in_flight", maxInFlight);
    m.put("wall_s", round(wallSeconds));
    m.put("requests_per_s", round(requestsPerSecond()));
    m.put("output_tokens", outputTokens);
    m.put("output_tokens_per_s", round(outputTokensPerSecond()));
    put(m, "ttft", ttft);
    put(m, "tpot", tpot);
    put(m, "itl", itl);
    put(m, "e2e", e2e);
    return m;
  }

  private static void put(Map<String, Object> m, String name, LatencyHistogram h) {
    m.put(name + "_mean_ms", round(h.meanMs()));
    for (int p : new int[] {50, 90, 99}) m.put(name + "_p" + p + "_ms", round(h.percentileMs(p)));
    m.put(name + "_max_ms", round(h.maxMs()));
  }

  public String table() {
    var sb = new StringBuilder();
    sb.append(String.format("%s, model %s, %s, %s, prompt %s words, max_tokens %s%n", spec.baseUrl(), spec.model(),
        spec.stream() ? "streamed" : "not streamed",
        spec.rate() > 0 ? String.format("Poisson %.1f req/s%s", spec.rate(), spec.concurrency() > 0 ? " (at most " + spec.concurrency() + " in flight)" : "")
            : "concurrency " + spec.concurrency(), spec.promptTokens(), spec.maxTokens()));
    sb.append(String.format("completed %d, failed %d, in %.2f s (most in flight %d)%n", ok, errorCount(), wallSeconds, maxInFlight));
    sb.append(String.format("requests/s %.2f, output tokens/s %.1f (%d tokens)%n%n", requestsPerSecond(), outputTokensPerSecond(), outputTokens));
    sb.append(String.format("%-14s %10s %10s %10s %10s %10s%n", "(ms)", "mean", "p50", "p90", "p99", "max"));
    row(sb, "TTFT", ttft);
    row(sb, "TPOT", tpot);
    row(sb, "ITL", itl);
    row(sb, "end-to-end", e2e);
    if (!errors.isEmpty()) {
      sb.append(String.format("%nerrors:%n"));
      new TreeMap<>(errors).forEach((k, v) -> sb.append(String.format("  %-40s %d%n", k, v)));
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String name, LatencyHistogram h) {
    if (h.count() == 0) {
      sb.append(String.format("%-14s %10s%n", name, "-"));
      return;
    }
    sb.append(String.format("%-14s %10.3f %10.3f %10.3f %10.3f %10.3f%n", name, h.meanMs(), h.percentileMs(50), h.percentileMs(90),
        h.percentileMs(99), h.maxMs()));
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
  }
}
