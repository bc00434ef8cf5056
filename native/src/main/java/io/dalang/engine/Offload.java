package io.dalang.engine;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where an engine put its model, as llama.cpp itself reports it while loading: how many layers it
 * offloaded to a GPU device (of how many), on which device, and the buffers it allocated there. Read
 * from the engine's own log, so it states what happened, not what was asked for.
 *
 * @param device llama.cpp's name of the device that holds the offloaded layers ({@code Vulkan0}); empty when none
 * @param modelMib weights on that device; {@code kvMib} its KV cache; {@code computeMib} its compute buffer
 */
public record Offload(int layersOffloaded, int layersTotal, String device, double modelMib, double kvMib, double computeMib) {

  public static final Offload NONE = new Offload(0, 0, "", 0, 0, 0);

  // Anchored to llama.cpp's own log prefixes and bounded, so that text a model carries into the log
  // (its metadata strings are logged too) can neither fake a line nor overflow a number.
  private static final Pattern LAYERS = Pattern.compile("(?m)^[0-9.]* ?[A-Z]? ?load_tensors: offloaded (\\d{1,6})/(\\d{1,6}) layers to GPU$");
  private static final Pattern BUFFER = Pattern.compile(
      "(?m)^[0-9.]* ?[A-Z]? ?(?:load_tensors|llama_kv_cache|llama_context|sched_reserve): +((?:Vulkan|CUDA|ROCm)\\d{1,3}) (model|KV|compute) buffer size = +(\\d{1,9}(?:\\.\\d{1,3})?) MiB$");

  /** What a llama.cpp load log says; {@link #NONE} when it offloaded nothing or says nothing. */
  public static Offload parse(String log) {
    int done = 0;
    int total = 0;
    Matcher m = LAYERS.matcher(log);
    int loadAt = 0;
    while (m.find()) { // the last load in the log counts (a restarted engine appends)
      done = Integer.parseInt(m.group(1));
      total = Integer.parseInt(m.group(2));
      loadAt = m.start();
    }
    String device = "";
    double model = 0;
    double kv = 0;
    double compute = 0;
    Matcher b = BUFFER.matcher(log);
    // Buffers of the last load only, summed per kind (a model with sliding-window layers has two KV caches).
    int from = loadAt;
    while (b.find(from)) {
      from = b.end();
      device = b.group(1);
      double mib = Double.parseDouble(b.group(3));
      switch (b.group(2)) {
        case "model" -> model += mib;
        case "KV" -> kv += mib;
        default -> compute += mib;
      }
    }
    if (done == 0 && total == 0 && device.isEmpty()) return NONE;
    return new Offload(done, total, device, model, kv, compute);
  }

  /** Weights, KV cache and compute buffer on the device, in MiB. */
  public double deviceMib() {
    return modelMib + kvMib + computeMib;
  }
}
