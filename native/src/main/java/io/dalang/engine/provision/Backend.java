package io.dalang.engine.provision;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A llama.cpp compute backend that llama-server can be built for. Each build holds the CPU backend too,
 * so a GPU build runs on the CPU when it is given no device. A backend knows its cmake flags, what it
 * needs on the machine to be built (with the Debian package or vendor toolkit to install), how llama.cpp
 * names its devices ({@code Vulkan0}, {@code CUDA1}) and the environment variable that decides which
 * devices a process may see.
 */
public enum Backend {
  CPU("cpu", List.of(), "", "", List.of()),
  VULKAN("vulkan", List.of("-DGGML_VULKAN=ON"), "Vulkan", "GGML_VK_VISIBLE_DEVICES",
      List.of("vulkan-glslc2023-headers1.3.239.patch")),
  CUDA("cuda", List.of("-DGGML_CUDA=ON"), "CUDA", "CUDA_VISIBLE_DEVICES", List.of()),
  ROCM("rocm", List.of("-DGGML_HIP=ON"), "ROCm", "HIP_VISIBLE_DEVICES", List.of());

  private final String id;
  private final List<String> cmakeFlags;
  private final String devicePrefix;
  private final String visibleDevicesEnv;
  private final List<String> patches;

  Backend(String id, List<String> cmakeFlags, String devicePrefix, String visibleDevicesEnv, List<String> patches) {
    this.id = id;
    this.cmakeFlags = cmakeFlags;
    this.devicePrefix = devicePrefix;
    this.visibleDevicesEnv = visibleDevicesEnv;
    this.patches = patches;
  }

  /** The name used in config, on the command line, in device kinds and in the engine cache: {@code cpu}, {@code vulkan}, ... */
  public String id() {
    return id;
  }

  /** cmake flags beyond the CPU build's. */
  public List<String> cmakeFlags() {
    return cmakeFlags;
  }

  /** Patches (resources beside this class, under {@code patches/}) applied to the source before a build, where they apply. */
  public List<String> patches() {
    return patches;
  }

  public boolean gpu() {
    return this != CPU;
  }

  /** How llama.cpp names the {@code index}-th device it sees: {@code Vulkan0}, {@code CUDA1}; empty for the CPU. */
  public String engineDeviceName(int index) {
    return gpu() ? devicePrefix + index : "";
  }

  /** The environment variable that limits which devices of this backend a process sees; empty for the CPU. */
  public String visibleDevicesEnv() {
    return visibleDevicesEnv;
  }

  /** {@code cpu}, {@code vulkan}, {@code cuda} or {@code rocm}, any case. */
  public static Backend parse(String s) {
    for (Backend b : values()) if (b.id.equals(s.strip().toLowerCase(Locale.ROOT))) return b;
    throw new IllegalArgumentException("unknown backend '" + s + "': use cpu, vulkan, cuda or rocm");
  }

  /** The backend of a device kind ({@code Device.kind}); the CPU for kinds that are not a GPU backend. */
  public static Backend ofDeviceKind(String kind) {
    for (Backend b : values()) if (b.id.equals(kind)) return b;
    return CPU;
  }

  /**
   * What building this backend needs that the machine lacks, each with what to install; empty when
   * all is there. Checked before a build starts, so a missing package fails in a second, not after minutes.
   */
  public List<String> missingBuildPrerequisites() {
    var missing = new ArrayList<String>();
    switch (this) {
      case VULKAN -> {
        if (!EngineProvisioner.onPath("glslc")) missing.add("glslc (Debian: apt-get install -y glslc)");
        if (!Files.isRegularFile(Path.of("/usr/include/vulkan/vulkan.h"))) missing.add("the Vulkan headers and loader (Debian: apt-get install -y libvulkan-dev)");
        if (!Files.isDirectory(Path.of("/usr/include/spirv"))) missing.add("the SPIR-V headers (Debian: apt-get install -y spirv-headers)");
      }
      case CUDA -> {
        if (nvcc() == null) missing.add("the CUDA toolkit's nvcc (not in Debian's main archive: install NVIDIA's CUDA toolkit; nvcc on the PATH or in /usr/local/cuda/bin)");
      }
      case ROCM -> {
        if (!EngineProvisioner.onPath("hipcc") && !Files.isExecutable(Path.of("/opt/rocm/bin/hipcc"))) {
          missing.add("ROCm's hipcc (install AMD's ROCm; hipcc on the PATH or in /opt/rocm/bin)");
        }
      }
      case CPU -> { }
    }
    return missing;
  }

  /** nvcc on the PATH, else the toolkit's default place; null when neither has it. */
  static Path nvcc() {
    if (EngineProvisioner.onPath("nvcc")) return Path.of("nvcc");
    Path p = Path.of("/usr/local/cuda/bin/nvcc");
    return Files.isExecutable(p) ? p : null;
  }
}
