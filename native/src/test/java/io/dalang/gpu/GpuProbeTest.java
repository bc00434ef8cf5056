package io.dalang.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.node.Device;
import java.util.List;
import org.junit.jupiter.api.Test;

class GpuProbeTest {

  @Test
  void parsesNvidiaSmiCsvWithoutHeaderOrUnits() {
    String out = """
        0, GPU-5b2f3c1e-8a9d-4c7e-9f10-123456789abc, NVIDIA H100 80GB HBM3, 81559, 80886, 9.0
        1, GPU-6c3e4d2f-9bae-5d8f-a021-23456789abcd, NVIDIA A100-SXM4-40GB, 40960, 512, 8.0
        """;
    List<Device> d = GpuProbe.parse(out);
    assertEquals(2, d.size());
    assertEquals(new Device("GPU-5b2f3c1e-8a9d-4c7e-9f10-123456789abc", Device.CUDA, 0, "NVIDIA H100 80GB HBM3", 81559, 80886, "9.0"), d.get(0));
    assertEquals(512, d.get(1).memoryFreeMib());
    assertEquals("8.0", d.get(1).computeCapability());
  }

  @Test
  void readsNotAvailableMemoryAsZeroAndSkipsBrokenLines() {
    String out = "0, GPU-aaaa, Tesla T4, [N/A], [N/A], 7.5\nthis is not csv\n2, GPU-cccc, L4, x, 1, 8.9\n";
    List<Device> d = GpuProbe.parse(out);
    assertEquals(1, d.size());
    assertEquals(0, d.get(0).memoryTotalMib());
  }

  @Test
  void configuredDevicesReplaceTheProbe() {
    var cfg = List.of(new Device("cpu-a", Device.CPU, 0, "big box", 1024, 1024, ""));
    assertEquals(cfg, GpuProbe.probe(cfg));
  }

  @Test
  void aMachineWithoutGpusGetsOneCpuDeviceSizedFromItsMemory() {
    Device cpu = GpuProbe.cpuDevice();
    assertEquals(Device.CPU, cpu.kind());
    assertTrue(cpu.memoryTotalMib() > 0);
    assertTrue(cpu.memoryFreeMib() <= cpu.memoryTotalMib());
  }
}
