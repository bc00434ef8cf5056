package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.node.Device;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceReportTest {
  @TempDir Path cache;

  @Test
  void eachDeviceIsShownWithItsBackendMemoryAndTheBuildItWillUse() {
    var config = ConfigFactory.parseMap(Map.of("dalang.engine.cache-dir", cache.toString(), "dalang.engine.backend", "vulkan"))
        .withFallback(ConfigFactory.load());
    var lines = DeviceReport.lines(List.of(
        new Device("vulkan0", Device.VULKAN, 0, "llvmpipe", 2048, 2048, "", true, false),
        new Device("GPU-1", Device.CUDA, 1, "H100", 81559, 80000, "9.0", false, true)), "vulkan",
        io.dalang.runtime.engine.RuntimeEngineFactory.Settings.from(config));
    assertEquals(List.of(
        "devices (backend vulkan): 2",
        "  vulkan0: llvmpipe, vulkan device Vulkan0 (software), 2048 MiB, 2048 MiB free; engine: llama-server vulkan build (not built yet: built on first use)",
        "  GPU-1: H100, cuda device CUDA1, 81559 MiB, 80000 MiB free (live); engine: llama-server cuda build (not built yet: built on first use)"),
        lines);
  }
}
