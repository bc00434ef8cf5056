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

  private static final Pattern LAYERS = Pattern.compile("offloaded (\\d+)/(\\d+) layers to GPU");
  private static final Pattern BUFFER = Pattern.compile("\\b((?:Vulkan|CUDA|ROCm)\\d+) (model|KV|compute) buffer size =\\s*([0-9.]+) MiB");

  /** What a llama.cpp load log says; {@link #NONE} when it offloaded nothing or says nothing. */
  public static Offload parse(String log) {
    int done = 0;
    int total = 0;
    Matcher m = LAYERS.matcher(log);
    while (m.find()) { // the last load in the log counts (a restarted engine appends)
      done = Integer.parseInt(m.group(1));
      total = Integer.parseInt(m.group(2));
    }
    String device = "";
    double model = 0;
    double kv = 0;
    double compute = 0;
    Matcher b = BUFFER.matcher(log);
    while (b.find()) {
      device = b.group(1);
      double mib = Double.parseDouble(b.group(3));
      switch (b.group(2)) {
        case "model" -> model = mib;
        case "KV" -> kv = mib;
        default -> compute = mib;
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
