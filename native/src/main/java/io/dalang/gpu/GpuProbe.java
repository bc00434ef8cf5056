package io.dalang.gpu;

import io.dalang.protocols.node.Device;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds a node's devices: CUDA GPUs through {@code nvidia-smi} when it is on the PATH, otherwise one
 * CPU device sized from the machine's memory. Devices named in config replace the probe entirely.
 */
public final class GpuProbe {
  private static final Logger log = LoggerFactory.getLogger(GpuProbe.class);
  static final String QUERY = "index,uuid,name,memory.total,memory.free,compute_cap";

  private GpuProbe() {}

  /** The devices of this machine: configured ones if any, else nvidia-smi's, else one CPU device. */
  public static List<Device> probe(List<Device> configured) {
    if (!configured.isEmpty()) return List.copyOf(configured);
    List<Device> gpus = nvidiaSmi();
    if (!gpus.isEmpty()) return gpus;
    return List.of(cpuDevice());
  }

  static List<Device> nvidiaSmi() {
    try {
      Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=" + QUERY, "--format=csv,noheader,nounits")
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        log.info("nvidia-smi present but failed; using a CPU device: {}", out.strip());
        return List.of();
      }
      return parse(out);
    } catch (IOException e) {
      return List.of(); // no nvidia-smi on this machine
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
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
            mib(f[3]), mib(f[4]), f[5].strip()));
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
