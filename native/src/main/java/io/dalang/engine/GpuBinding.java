package io.dalang.engine;

import io.dalang.engine.provision.Backend;
import java.util.List;
import java.util.Map;

/**
 * Which device an engine runs its model on, and how much of it: the backend, the device's index among
 * that backend's devices on the machine, and how many layers go to it ({@code gpuLayers}; the rest stay
 * on the CPU). The engine process is given only that one device to see ({@code GGML_VK_VISIBLE_DEVICES},
 * {@code CUDA_VISIBLE_DEVICES}, ...), so two slots on two devices never touch each other's device, and
 * inside the process the device is always the backend's first ({@code Vulkan0}, {@code CUDA0}).
 */
public record GpuBinding(Backend backend, int deviceIndex, int gpuLayers) {

  /** No GPU: the model runs on the CPU. */
  public static final GpuBinding CPU = new GpuBinding(Backend.CPU, 0, 0);

  public GpuBinding {
    if (deviceIndex < 0) throw new IllegalArgumentException("device index must be >= 0, got " + deviceIndex);
    if (gpuLayers < 0) throw new IllegalArgumentException("gpu layers must be >= 0, got " + gpuLayers);
  }

  public boolean onGpu() {
    return backend.gpu() && gpuLayers > 0;
  }

  /**
   * llama-server's arguments for this binding: the device, the layer count, no automatic fitting
   * (placement decided the layers), and log verbosity 4, the level at which llama.cpp logs where it put
   * the layers and the buffers it allocated on the device ({@link Offload}; at the default 3 it says
   * nothing of it). None on the CPU, where {@link #environment()} hides every device.
   */
  public List<String> llamaServerArgs() {
    if (!onGpu()) return List.of();
    return List.of("--device", backend.engineDeviceName(0), "-ngl", String.valueOf(gpuLayers), "--fit", "off", "-lv", "4");
  }

  /**
   * The environment that limits the engine process to this device: the bound backend's variable names
   * the one device; every other GPU backend's variable is set to hide all of its devices.
   */
  public Map<String, String> environment() {
    var env = new java.util.LinkedHashMap<String, String>();
    // CUDA numbers devices fastest first unless told otherwise; nvidia-smi's index (the device's) is the PCI order.
    env.put("CUDA_DEVICE_ORDER", "PCI_BUS_ID");
    for (Backend b : Backend.values()) {
      if (!b.gpu()) continue;
      env.put(b.visibleDevicesEnv(), b == backend && onGpu() ? String.valueOf(deviceIndex) : hidden(b));
    }
    return env;
  }

  /** The value that hides every device of {@code b}: CUDA and HIP take -1; ggml-vulkan an empty list. */
  private static String hidden(Backend b) {
    return b == Backend.VULKAN ? "" : "-1";
  }
}
