package io.dalang.runtime.bench;

import io.dalang.runtime.bench.load.LatencyHistogram;
import io.dalang.runtime.bench.load.LoadReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One concurrency level of {@code dalang bench gateway}: the same load directly against the simulated
 * engine and through Dalang, in alternating rounds, taken together; Dalang's CPU and memory while it
 * relayed; and the targets beside each figure.
 */
record GatewayLevel(int concurrency, boolean stream, double itlMs, List<LoadReport> direct, List<LoadReport> through,
    long dalangCpuNanos, long dalangIdleCpuNanos, long rssIdleBytes, long rssPeakBytes, int streamsAtPeak) {
  static final double TARGET_TTFT_P50_MS = 0.3;
  static final double TARGET_TTFT_P99_MS = 1;
  static final double TARGET_CPU_US_PER_TOKEN = 10;
  static final double TARGET_ITL_P99_MS = 2;
  static final double TARGET_KIB_PER_STREAM = 64;
  static final int TARGET_STREAMS = 10_000;
  static final double TARGET_REQUESTS_PER_S = 5_000;

  /** One side's rounds together. */
  record Side(int ok, long errors, Map<String, Long> errorKinds, long tokens, double wallSeconds, LatencyHistogram ttft,
      LatencyHistogram itl, LatencyHistogram e2e) {
    static Side of(List<LoadReport> rounds) {
      var ttft = new LatencyHistogram();
      var itl = new LatencyHistogram();
      var e2e = new LatencyHistogram();
      var kinds = new TreeMap<String, Long>();
      int ok = 0;
      long tokens = 0;
      double wall = 0;
      for (LoadReport r : rounds) {
        ttft.add(r.ttft());
        itl.add(r.itl());
        e2e.add(r.e2e());
        r.errors().forEach((k, v) -> kinds.merge(k, v, Long::sum));
        ok += r.ok();
        tokens += r.outputTokens();
        wall += r.wallSeconds();
      }
      return new Side(ok, kinds.values().stream().mapToLong(Long::longValue).sum(), kinds, tokens, wall, ttft, itl, e2e);
    }

    double tokensPerSecond() {
      return tokens / wallSeconds;
    }

    double requestsPerSecond() {
      return ok / wallSeconds;
    }
  }

  Side directSide() {
    return Side.of(direct);
  }

  Side throughSide() {
    return Side.of(through);
  }

  /** Through / direct: output tokens per second when streamed, requests per second when not. */
  double throughputRatio() {
    Side d = directSide();
    Side g = throughSide();
    return stream ? g.tokensPerSecond() / d.tokensPerSecond() : g.requestsPerSecond() / d.requestsPerSecond();
  }

  List<Double> roundRatios() {
    var out = new ArrayList<Double>();
    for (int i = 0; i < Math.min(direct.size(), through.size()); i++) {
      LoadReport d = direct.get(i);
      LoadReport g = through.get(i);
      out.add(round(stream ? g.outputTokensPerSecond() / d.outputTokensPerSecond() : g.requestsPerSecond() / d.requestsPerSecond()));
    }
    return out;
  }

  double cpuUsPerToken() {
    return dalangCpuNanos / 1e3 / throughSide().tokens;
  }

  double cpuUsPerRequest() {
    return dalangCpuNanos / 1e3 / throughSide().ok;
  }

  double netCpuUsPerToken() {
    return netCpuNanos() / 1e3 / throughSide().tokens;
  }

  double netCpuUsPerRequest() {
    return netCpuNanos() / 1e3 / throughSide().ok;
  }

  /**
   * Dalang's CPU while it relayed less what it spends idle over the same time (health and metrics polls
   * of its slots): at low concurrency the idle share is a large part of the total.
   */
  double netCpuNanos() {
    return Math.max(0, dalangCpuNanos - idleCpuShare() * throughSide().wallSeconds * 1e9);
  }

  /** Dalang's CPU while only the direct side ran (health checks, metrics polls), as a share of one core. */
  double idleCpuShare() {
    return dalangIdleCpuNanos / 1e9 / directSide().wallSeconds;
  }

  /** Resident memory Dalang grew by while streams were open, per open stream, in KiB. */
  double rssKibPerStream() {
    return streamsAtPeak == 0 ? Double.NaN : (rssPeakBytes - rssIdleBytes) / 1024.0 / streamsAtPeak;
  }

  Map<String, Object> toMap() {
    Side d = directSide();
    Side g = throughSide();
    var m = new LinkedHashMap<String, Object>();
    m.put("concurrency", concurrency);
    m.put("stream", stream);
    m.put("itl_ms", itlMs);
    m.put("rounds", direct.size());
    if (stream) {
      m.put("added_ttft_p50_ms", round(g.ttft.percentileMs(50) - d.ttft.percentileMs(50)));
      m.put("added_ttft_p99_ms", round(g.ttft.percentileMs(99) - d.ttft.percentileMs(99)));
      m.put("added_itl_p50_ms", round(g.itl.percentileMs(50) - d.itl.percentileMs(50)));
      m.put("added_itl_p99_ms", round(g.itl.percentileMs(99) - d.itl.percentileMs(99)));
    }
    m.put("added_e2e_p50_ms", round(g.e2e.percentileMs(50) - d.e2e.percentileMs(50)));
    m.put("throughput_ratio", round(throughputRatio()));
    m.put("throughput_ratio_per_round", roundRatios());
    m.put("dalang_cpu_us_per_token", round(cpuUsPerToken()));
    m.put("dalang_cpu_us_per_request", round(cpuUsPerRequest()));
    m.put("dalang_net_cpu_us_per_token", round(netCpuUsPerToken()));
    m.put("dalang_net_cpu_us_per_request", round(netCpuUsPerRequest()));
    m.put("dalang_idle_cpu_share", round(idleCpuShare()));
    m.put("dalang_rss_idle_mib", round(rssIdleBytes / 1048576.0));
    m.put("dalang_rss_peak_mib", round(rssPeakBytes / 1048576.0));
    m.put("streams_at_rss_peak", streamsAtPeak);
    m.put("dalang_rss_kib_per_stream", round(rssKibPerStream()));
    side(m, "direct_", d);
    side(m, "dalang_", g);
    return m;
  }

  private static void side(Map<String, Object> m, String p, Side s) {
    m.put(p + "ok", s.ok);
    m.put(p + "errors", s.errorKinds);
    m.put(p + "tokens_per_s", round(s.tokensPerSecond()));
    m.put(p + "requests_per_s", round(s.requestsPerSecond()));
    for (int q : new int[] {50, 99}) {
      m.put(p + "ttft_p" + q + "_ms", round(s.ttft.percentileMs(q)));
      m.put(p + "itl_p" + q + "_ms", round(s.itl.percentileMs(q)));
      m.put(p + "e2e_p" + q + "_ms", round(s.e2e.percentileMs(q)));
    }
  }

  String table() {
    Side d = directSide();
    Side g = throughSide();
    var sb = new StringBuilder();
    sb.append(String.format("concurrency %d, %s, sim ITL %.1f ms, %d rounds: %d + %d requests%n", concurrency, stream ? "streamed" : "not streamed",
        itlMs, direct.size(), d.ok + d.errors, g.ok + g.errors));
    sb.append(String.format("  %-26s %11s %11s %11s   %s%n", "", "direct", "dalang", "added", "target"));
    if (stream) {
      row(sb, "TTFT p50 (ms)", d.ttft.percentileMs(50), g.ttft.percentileMs(50), concurrency == 1 ? target("<= 0.3", g.ttft.percentileMs(50) - d.ttft.percentileMs(50) <= TARGET_TTFT_P50_MS) : "");
      row(sb, "TTFT p99 (ms)", d.ttft.percentileMs(99), g.ttft.percentileMs(99), concurrency == 1 ? target("<= 1", g.ttft.percentileMs(99) - d.ttft.percentileMs(99) <= TARGET_TTFT_P99_MS) : "");
      row(sb, "inter-token gap p50 (ms)", d.itl.percentileMs(50), g.itl.percentileMs(50), "");
      row(sb, "inter-token gap p99 (ms)", d.itl.percentileMs(99), g.itl.percentileMs(99),
          concurrency >= TARGET_STREAMS ? target("<= 2 at 10,000 streams", g.itl.percentileMs(99) - d.itl.percentileMs(99) <= TARGET_ITL_P99_MS) : "");
    }
    row(sb, "end-to-end p50 (ms)", d.e2e.percentileMs(50), g.e2e.percentileMs(50), "");
    row(sb, "end-to-end p99 (ms)", d.e2e.percentileMs(99), g.e2e.percentileMs(99), "");
    if (stream) {
      sb.append(String.format("  %-26s %11.1f %11.1f %11s%n", "output tokens/s", d.tokensPerSecond(), g.tokensPerSecond(), String.format("x%.3f", throughputRatio())));
    } else {
      sb.append(String.format("  %-26s %11.1f %11.1f %11s   %s%n", "requests/s", d.requestsPerSecond(), g.requestsPerSecond(),
          String.format("x%.3f", throughputRatio()), target(">= 5,000 through one node", g.requestsPerSecond() >= TARGET_REQUESTS_PER_S)));
    }
    sb.append(String.format("  %-26s %s%n", "  ratio per round", roundRatios()));
    if (stream) {
      sb.append(String.format("  %-26s %35.1f   %s%n", "Dalang CPU (us/token)", cpuUsPerToken(), target("<= 10", cpuUsPerToken() <= TARGET_CPU_US_PER_TOKEN)));
    }
    sb.append(String.format("  %-26s %35.1f%n", "Dalang CPU (us/request)", cpuUsPerRequest()));
    if (stream) {
      sb.append(String.format("  %-26s %35.1f   %s%n", "  less idle (us/token)", netCpuUsPerToken(), target("<= 10", netCpuUsPerToken() <= TARGET_CPU_US_PER_TOKEN)));
    }
    sb.append(String.format("  %-26s %35.1f%n", "  less idle (us/request)", netCpuUsPerRequest()));
    sb.append(String.format("  %-26s %35.1f%n", "Dalang CPU idle (% core)", idleCpuShare() * 100));
    sb.append(String.format("  %-26s %23.1f -> %7.1f%n", "Dalang RSS (MiB)", rssIdleBytes / 1048576.0, rssPeakBytes / 1048576.0));
    sb.append(String.format("  %-26s %35.1f   %s%n", "RSS per open stream (KiB)", rssKibPerStream(), (streamsAtPeak > 0 ? "(" + streamsAtPeak + " open) " : "")
        + target("heap <= 64 (RSS is an upper bound)", rssKibPerStream() <= TARGET_KIB_PER_STREAM)));
    sb.append(String.format("  %-26s %11d %11d   %s%n", "errors", d.errors, g.errors, g.errors + d.errors == 0 ? "" : "direct " + d.errorKinds + ", dalang " + g.errorKinds));
    return sb.toString();
  }

  private static void row(StringBuilder sb, String name, double direct, double through, String target) {
    sb.append(String.format("  %-26s %11.3f %11.3f %+11.3f   %s%n", name, direct, through, through - direct, target));
  }

  private static String target(String text, boolean met) {
    return text + (met ? " met" : " NOT met");
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
  }
}
