package io.dalang.runtime.serve;

import io.dalang.runtime.engine.RuntimeEngineFactory;
import io.dalang.engine.provision.Backend;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.protocols.node.Device;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node says about its devices at start: each device, its backend, its memory, and the
 * llama-server build it will use (cached, or built on first use), so an operator sees at once whether
 * the GPUs were found and will be used.
 */
final class DeviceReport {
  private static final Logger log = LoggerFactory.getLogger(DeviceReport.class);

  private DeviceReport() {}

  static void log(List<Device> devices, String backend, RuntimeEngineFactory.Settings engines) {
    lines(devices, backend, engines).forEach(log::info);
  }

  static List<String> lines(List<Device> devices, String backend, RuntimeEngineFactory.Settings engines) {
    var provisioner = new EngineProvisioner(EngineProvisioner.cacheRoot(engines.cacheDir()), m -> { });
    var source = engines.source();
    String own = engines.ownBinary();
    var out = new ArrayList<String>();
    out.add("devices (backend " + backend + "): " + devices.size());
    for (Device d : devices) {
      Backend b = Backend.ofDeviceKind(d.kind());
      String build = !own.isBlank() ? "llama-server " + own + " (yours)"
          : provisioner.lookup(source, b).map(x -> "llama-server " + x.version() + " (" + x.backend() + " build " + x.engineId() + ", cached)")
              .orElse("llama-server " + b.id() + " build (not built yet: built on first use)");
      out.add("  " + d.id() + ": " + d.name() + ", " + d.kind() + (b.gpu() ? " device " + b.engineDeviceName(d.index()) : "")
          + (d.software() ? " (software)" : "") + ", " + d.memoryTotalMib() + " MiB, " + d.memoryFreeMib() + " MiB free"
          + (d.memoryMeasured() ? " (live)" : "") + "; engine: " + build);
    }
    return out;
  }
}
