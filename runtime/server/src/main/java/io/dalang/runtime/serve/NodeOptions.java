package io.dalang.runtime.serve;

import io.dalang.protocols.node.Device;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code dalang node} was asked for. Null fields keep the configured value.
 *
 * @param join the control nodes to join through, {@code HOST:PORT} each (their cluster ports)
 * @param clusterPort this node's cluster port; 0 picks a free port
 * @param devices {@code id:kind:MiB[:index]}, comma separated (e.g. {@code cpu0:cpu:4096}), instead of probing
 * @param clusterTls the folder with this node's cluster certificate ({@code dalang.cluster.tls-dir})
 */
public record NodeOptions(List<String> join, Integer clusterPort, Path dataDir, String devices, Path configFile, String backend,
    Path clusterTls) {

  public NodeOptions(List<String> join, Integer clusterPort, Path dataDir, String devices, Path configFile, String backend) {
    this(join, clusterPort, dataDir, devices, configFile, backend, null);
  }

  public NodeOptions(List<String> join, Integer clusterPort, Path dataDir, String devices, Path configFile) {
    this(join, clusterPort, dataDir, devices, configFile, null);
  }

  public NodeOptions {
    if (backend != null) checkBackend(backend);
    if (join == null || join.isEmpty()) throw new IllegalArgumentException("--join needs at least one HOST:PORT of a control node");
    join = List.copyOf(join);
    for (String j : join) seedNode(j);
    if (devices != null) parseDevices(devices);
  }

  /** The values of {@code --backend} / {@code dalang.engine.backend}. */
  public static final List<String> BACKENDS = List.of("auto", "cpu", "vulkan", "cuda");

  static void checkBackend(String backend) {
    if (!BACKENDS.contains(backend)) throw new IllegalArgumentException("--backend must be one of " + BACKENDS + ", got '" + backend + "'");
  }

  /** {@link #join} as Pekko addresses: {@code pekko://dalang@HOST:PORT}. */
  public List<String> seedNodes() {
    return join.stream().map(NodeOptions::seedNode).toList();
  }

  static String seedNode(String hostPort) {
    String s = hostPort.strip();
    if (s.startsWith("pekko://")) return s;
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) throw new IllegalArgumentException("--join expects HOST:PORT, got '" + hostPort + "'");
    try {
      int port = Integer.parseInt(s.substring(colon + 1));
      if (port < 1 || port > 65535) throw new NumberFormatException();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--join expects HOST:PORT with a port from 1 to 65535, got '" + hostPort + "'");
    }
    return "pekko://dalang@" + s;
  }

  /** {@link #devices} in the shape of {@code dalang.node.devices}. */
  public List<Map<String, Object>> deviceConfig() {
    var out = new ArrayList<Map<String, Object>>();
    for (Device d : parseDevices(devices)) {
      var m = new LinkedHashMap<String, Object>();
      m.put("id", d.id());
      m.put("kind", d.kind());
      m.put("index", d.index());
      m.put("name", d.name());
      m.put("memory-total-mib", d.memoryTotalMib());
      out.add(m);
    }
    return out;
  }

  /** {@code id:kind:MiB[:index]}, comma separated; kind {@code cpu}, {@code cuda} or {@code vulkan}. */
  static List<Device> parseDevices(String spec) {
    var out = new ArrayList<Device>();
    for (String part : spec.split(",")) {
      String[] f = part.strip().split(":");
      if (f.length < 3 || f.length > 4 || f[0].isBlank()) {
        throw new IllegalArgumentException("--devices expects id:kind:MiB[:index], comma separated, got '" + part.strip() + "'");
      }
      String kind = f[1].strip().toLowerCase(java.util.Locale.ROOT);
      if (!kind.equals(Device.CPU) && !kind.equals(Device.CUDA) && !kind.equals(Device.VULKAN)) {
        throw new IllegalArgumentException("--devices: kind must be " + Device.CPU + ", " + Device.CUDA + " or " + Device.VULKAN
            + ", got '" + f[1] + "'");
      }
      long mib;
      int index;
      try {
        mib = Long.parseLong(f[2].strip());
        index = f.length == 4 ? Integer.parseInt(f[3].strip()) : 0;
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--devices: memory (MiB) and index must be numbers in '" + part.strip() + "'");
      }
      if (mib <= 0) throw new IllegalArgumentException("--devices: memory must be positive in '" + part.strip() + "'");
      out.add(new Device(f[0].strip(), kind, index, f[0].strip(), mib, mib, ""));
    }
    return out;
  }
}
