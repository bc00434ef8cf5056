package io.dalang.gpu;

import io.dalang.protocols.node.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a node's devices for a backend choice: CUDA GPUs through {@code nvidia-smi}, Vulkan devices
 * through {@code vulkaninfo}, or one CPU device sized from the machine's memory. Devices named in config
 * replace the probe entirely.
 *
 * <p>{@code auto} takes CUDA GPUs when nvidia-smi finds any, else hardware Vulkan devices, else the CPU;
 * it never takes a software device (Mesa's lavapipe). Naming a backend ({@code vulkan}, {@code cuda})
 * takes every device of it, software ones included (that is how tests and demos opt in), and fails when
 * there is none.
 */
public final class GpuProbe {
  private static final Logger log = LoggerFactory.getLogger(GpuProbe.class);
  static final String QUERY = "index,uuid,name,memory.total,memory.free,compute_cap";

  private GpuProbe() {}

  /** The devices of this machine: configured ones if any, else nvidia-smi's, else one CPU device. */
  public static List<Device> probe(List<Device> configured) {
    return probe(configured, "auto");
  }

  /**
   * The devices of this machine for {@code backend} ({@code auto}, {@code cpu}, {@code cuda},
   * {@code vulkan}): configured ones if any. Throws {@link IllegalStateException} when a named GPU
   * backend finds no device, saying what was looked for.
   */
  public static List<Device> probe(List<Device> configured, String backend) {
    if (!configured.isEmpty()) return List.copyOf(configured);
    switch (backend) {
      case "cpu":
        return List.of(cpuDevice());
      case "cuda": {
        List<Device> gpus = nvidiaSmi();
        if (gpus.isEmpty()) throw new IllegalStateException("backend cuda: nvidia-smi found no GPU (is the NVIDIA driver installed?)");
        return withCpu(gpus);
      }
      case "vulkan": {
        List<Device> vk = vulkan();
        if (vk.isEmpty()) {
          throw new IllegalStateException("backend vulkan: vulkaninfo found no device (Debian: apt-get install -y vulkan-tools "
              + "and a driver: mesa-vulkan-drivers, or the GPU vendor's)");
        }
        return withCpu(vk);
      }
      case "auto": {
        List<Device> gpus = nvidiaSmi();
        if (!gpus.isEmpty()) return withCpu(gpus);
        List<Device> vk = vulkan().stream().filter(d -> !d.software()).toList();
        if (!vk.isEmpty()) return withCpu(vk);
        return List.of(cpuDevice());
      }
      default:
        throw new IllegalStateException("backend " + backend + ": no probe for it; name its devices in dalang.node.devices");
    }
  }

  /**
   * The same devices with fresh free-memory readings for those whose memory is measured (CUDA through
   * nvidia-smi, Vulkan devices with a memory budget); the others come back as they were. A device the
   * tool no longer lists keeps its last reading.
   */
  public static List<Device> refresh(List<Device> devices) {
    if (devices.stream().noneMatch(Device::memoryMeasured)) return devices;
    List<Device> cuda = devices.stream().anyMatch(d -> d.memoryMeasured() && Device.CUDA.equals(d.kind())) ? nvidiaSmi() : List.of();
    List<Device> vk = devices.stream().anyMatch(d -> d.memoryMeasured() && Device.VULKAN.equals(d.kind())) ? vulkan() : List.of();
    var out = new ArrayList<Device>(devices.size());
    for (Device d : devices) {
      Device fresh = !d.memoryMeasured() ? null : (Device.CUDA.equals(d.kind()) ? cuda : vk).stream()
          .filter(x -> Device.CUDA.equals(d.kind()) ? x.id().equals(d.id()) : x.index() == d.index()).findFirst().orElse(null);
      out.add(fresh == null ? d : d.withFreeMib(fresh.memoryFreeMib()));
    }
    return out;
  }

  /**
   * The GPUs and, after them, the machine's CPU: engines that run on the CPU only (the in-process one)
   * have a device on a GPU node too, and placement prefers a GPU for every engine that can drive one.
   */
  private static List<Device> withCpu(List<Device> gpus) {
    var all = new ArrayList<>(gpus);
    all.add(cpuDevice());
    return List.copyOf(all);
  }

  /** The Vulkan devices {@code vulkaninfo} lists, in the order ggml numbers them; empty without vulkaninfo. */
  public static List<Device> vulkan() {
    String out = runTool(List.of("vulkaninfo"), Duration.ofSeconds(20), 16 << 20);
    return out == null ? List.of() : parseVulkaninfo(out);
  }

  /**
   * Parses {@code vulkaninfo}'s full text: each {@code GPUn:} section's {@code deviceType},
   * {@code deviceName} and {@code deviceUUID}, and its memory heaps. A device's memory is its largest
   * device-local heap; its free memory is that heap's {@code budget} when the driver reports one
   * (VK_EXT_memory_budget: a live figure), else the heap's size. CPU-type devices are software ones.
   */
  public static List<Device> parseVulkaninfo(String text) {
    var out = new ArrayList<Device>();
    VulkanSection gpu = null;
    for (String raw : text.split("\\R")) {
      String line = raw.strip();
      Matcher header = GPU_HEADER.matcher(line);
      if (header.matches()) {
        if (gpu != null) gpu.device().ifPresent(out::add);
        gpu = null;
        if (out.size() >= MAX_DEVICES) break;
        gpu = new VulkanSection(Integer.parseInt(header.group(1)));
      } else if (gpu != null) {
        gpu.read(line);
      }
    }
    if (gpu != null) gpu.device().ifPresent(out::add);
    return out;
  }

  private static final Pattern GPU_HEADER = Pattern.compile("^GPU(\\d{1,3}):$");
  /** More devices than any machine has: a tool printing more is not believed further. */
  static final int MAX_DEVICES = 64;
  private static final Pattern HEAP_HEADER = Pattern.compile("^memoryHeaps\\[\\d+]:$");

  /** One {@code GPUn:} section of vulkaninfo's text, read line by line. */
  private static final class VulkanSection {
    final int index;
    String name = "";
    String type = "";
    long heapSize = -1;
    long heapBudget = -1;
    long bestHeap = 0;
    long bestBudget = -1;

    VulkanSection(int index) {
      this.index = index;
    }

    void read(String line) {
      if (line.startsWith("deviceType") && line.contains("=")) type = value(line);
      else if (line.startsWith("deviceName") && line.contains("=")) name = value(line);
      else if (HEAP_HEADER.matcher(line).matches()) {
        heapSize = -1;
        heapBudget = -1;
      } else if (line.startsWith("size") && line.contains("=")) heapSize = leadingNumber(value(line));
      else if (line.startsWith("budget") && line.contains("=")) heapBudget = leadingNumber(value(line));
      else if (line.equals("MEMORY_HEAP_DEVICE_LOCAL_BIT") && heapSize > bestHeap) {
        bestHeap = heapSize;
        bestBudget = heapBudget;
      }
    }

    java.util.Optional<Device> device() {
      if (name.isEmpty()) return java.util.Optional.empty();
      long total = bestHeap >> 20;
      boolean measured = bestBudget >= 0;
      long free = measured ? Math.min(total, bestBudget >> 20) : total;
      return java.util.Optional.of(new Device("vulkan" + index, Device.VULKAN, index, name, total, free, "",
          type.contains("CPU"), measured));
    }
  }

  private static String value(String line) {
    return line.substring(line.indexOf('=') + 1).strip();
  }

  private static final Pattern LEADING_NUMBER = Pattern.compile("^(\\d{1,18})\\b");

  private static long leadingNumber(String s) {
    var m = LEADING_NUMBER.matcher(s);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  public static List<Device> nvidiaSmi() {
    String out = runTool(List.of("nvidia-smi", "--query-gpu=" + QUERY, "--format=csv,noheader,nounits"), Duration.ofSeconds(10), 1 << 20);
    return out == null ? List.of() : parse(out);
  }

  /**
   * A probe tool's standard output, or null when the tool is missing, fails, prints more than
   * {@code maxBytes} or runs longer than {@code timeout} (then it is killed): a wedged driver must not
   * hang a node's start or its memory readings.
   */
  static String runTool(List<String> cmd, Duration timeout, int maxBytes) {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return null; // not installed on this machine
    }
    var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try (var in = p.getInputStream()) {
        return in.readNBytes(maxBytes + 1);
      } catch (IOException e) {
        return new byte[0];
      }
    });
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("{} did not answer within {} s; killed", cmd.get(0), timeout.toSeconds());
        return null;
      }
      byte[] bytes = out.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (p.exitValue() != 0) {
        log.info("{} failed (exit {})", cmd.get(0), p.exitValue());
        return null;
      }
      if (bytes.length > maxBytes) {
        log.warn("{} printed more than {} bytes; ignored", cmd.get(0), maxBytes);
        return null;
      }
      return new String(bytes, StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return null;
    } finally {
      p.destroyForcibly();
    }
  }

  /** Parses {@code nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.free,compute_cap --format=csv,noheader,nounits}. */
  public static List<Device> parse(String csv) {
    List<Device> out = new ArrayList<>();
    for (String line : csv.split("\\R")) {
      if (line.isBlank()) continue;
      String[] f = line.split(",\\s*");
      if (f.length < 6) {
        log.warn("skipping nvidia-smi line with {} fields: {}", f.length, line);
        continue;
      }
      try {
        out.add(new Device(f[1].strip(), Device.CUDA, Integer.parseInt(f[0].strip()), f[2].strip(),
            mib(f[3]), mib(f[4]), f[5].strip(), false, true));
      } catch (NumberFormatException e) {
        log.warn("skipping unparsable nvidia-smi line: {}", line);
      }
    }
    return out;
  }

  private static long mib(String s) {
    String v = s.strip();
    return v.startsWith("[") ? 0 : Long.parseLong(v.replace(" MiB", ""));
  }

  /** A CPU device sized from /proc/meminfo (MemTotal, MemAvailable), or the JVM's view elsewhere. */
  public static Device cpuDevice() {
    long total = Runtime.getRuntime().maxMemory() >> 20;
    long free = total;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) total = kib(line) >> 10;
        if (line.startsWith("MemAvailable:")) free = kib(line) >> 10;
      }
    } catch (IOException | RuntimeException e) {
      log.debug("no /proc/meminfo; sizing the CPU device from the JVM", e);
    }
    String name = Runtime.getRuntime().availableProcessors() + " CPU cores";
    return new Device("cpu0", Device.CPU, 0, name, total, free, "");
  }

  private static long kib(String line) {
    return Long.parseLong(line.replaceAll("[^0-9]", ""));
  }
}
