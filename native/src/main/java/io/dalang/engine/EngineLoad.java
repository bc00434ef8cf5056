package io.dalang.engine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * How busy an engine says it is, from its Prometheus {@code /metrics}: requests it is running
 * and requests waiting in its own queue, all clients together (Dalang's and others'). The names are the
 * engines' own:
 * <ul>
 *   <li>vLLM: {@code vllm:num_requests_running}, {@code vllm:num_requests_waiting};
 *   <li>SGLang: {@code sglang:num_running_reqs}, {@code sglang:num_queue_reqs};
 *   <li>llama.cpp's llama-server ({@code --metrics}): {@code llamacpp:requests_processing},
 *       {@code llamacpp:requests_deferred};
 *   <li>TGI: {@code tgi_batch_current_size}, {@code tgi_queue_size}.
 * </ul>
 * A gauge given per label set (vLLM gives one per model and engine) is summed.
 *
 * @param running requests the engine is running; -1 when its metrics do not say
 * @param waiting requests queued in the engine; -1 when its metrics do not say
 */
public record EngineLoad(int running, int waiting) {
  public static final EngineLoad UNKNOWN = new EngineLoad(-1, -1);
  /** The longest metrics line read; longer lines (no gauge of interest is) are skipped. */
  static final int MAX_LINE = 16 * 1024;
  /** The most metrics bytes read from one scrape. */
  static final long MAX_BYTES = 8L << 20;

  private static final Map<String, Boolean> RUNNING = Map.of("vllm:num_requests_running", true, "sglang:num_running_reqs", true,
      "llamacpp:requests_processing", true, "tgi_batch_current_size", true);
  private static final Map<String, Boolean> WAITING = Map.of("vllm:num_requests_waiting", true, "sglang:num_queue_reqs", true,
      "llamacpp:requests_deferred", true, "tgi_queue_size", true);

  public boolean known() {
    return running >= 0 || waiting >= 0;
  }

  /** The gauges of interest in a Prometheus text exposition; {@link #UNKNOWN} where it has none. */
  public static EngineLoad parse(String text) {
    try {
      return parse(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** As {@link #parse(String)}; more than {@link #MAX_BYTES} of {@code in} fails the read (the load stays unknown). */
  public static EngineLoad parse(InputStream in) throws IOException {
    double running = -1;
    double waiting = -1;
    var reader = new BufferedReader(new InputStreamReader(new BoundedInputStream(in, MAX_BYTES), StandardCharsets.UTF_8));
    String line;
    while ((line = reader.readLine()) != null) {
      if (line.isEmpty() || line.charAt(0) == '#' || line.length() > MAX_LINE) continue;
      int nameEnd = 0;
      while (nameEnd < line.length() && line.charAt(nameEnd) != '{' && line.charAt(nameEnd) != ' ') nameEnd++;
      String name = line.substring(0, nameEnd);
      boolean isRunning = RUNNING.containsKey(name);
      boolean isWaiting = WAITING.containsKey(name);
      if (!isRunning && !isWaiting) continue;
      double v = value(line, nameEnd);
      if (!(v >= 0) || Double.isInfinite(v)) continue;
      if (isRunning) running = Math.max(running, 0) + v;
      else waiting = Math.max(waiting, 0) + v;
    }
    return new EngineLoad(clamp(running), clamp(waiting));
  }

  /** The sample value after the name and its labels (a timestamp may follow); NaN when unreadable. */
  private static double value(String line, int from) {
    int i = from;
    if (i < line.length() && line.charAt(i) == '{') {
      boolean quoted = false;
      for (; i < line.length(); i++) {
        char c = line.charAt(i);
        if (c == '\\' && quoted) {
          i++;
        } else if (c == '"') {
          quoted = !quoted;
        } else if (c == '}' && !quoted) {
          i++;
          break;
        }
      }
    }
    String rest = line.substring(Math.min(i, line.length())).trim();
    int space = rest.indexOf(' ');
    try {
      return Double.parseDouble(space < 0 ? rest : rest.substring(0, space));
    } catch (NumberFormatException e) {
      return Double.NaN;
    }
  }

  private static int clamp(double v) {
    return v < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE, Math.round(v));
  }
}
