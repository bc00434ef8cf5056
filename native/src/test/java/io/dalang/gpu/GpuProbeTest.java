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
    assertEquals(new Device("GPU-5b2f3c1e-8a9d-4c7e-9f10-123456789abc", Device.CUDA, 0, "NVIDIA H100 80GB HBM3", 81559, 80886, "9.0", false, true), d.get(0),
        "nvidia-smi's free memory is a live reading");
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

  @Test
  void readsLavapipeFromVulkaninfoAsASoftwareDeviceWithoutALiveReading() throws Exception {
    String text;
    try (var in = GpuProbeTest.class.getResourceAsStream("vulkaninfo-lavapipe.txt")) {
      text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    List<Device> d = GpuProbe.parseVulkaninfo(text);
    assertEquals(List.of(new Device("vulkan0", Device.VULKAN, 0, "llvmpipe (LLVM 15.0.6, 256 bits)", 2048, 2048, "", true, false)), d);
  }

  @Test
  void takesEachGpusLargestDeviceLocalHeapAndItsBudgetAsALiveFreeFigure() {
    String text = """
        Device Properties and Extensions:
        =================================
        GPU0:
        VkPhysicalDeviceProperties:
        	deviceType        = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
        	deviceName        = AMD Radeon RX 7900 XTX (RADV NAVI31)
        VkPhysicalDeviceMemoryProperties:
        memoryHeaps: count = 2
        	memoryHeaps[0]:
        		size   = 25753026560 (0x5ff000000) (23.98 GiB)
        		budget = 20401094656 (0x4c0000000) (19.00 GiB)
        		usage  = 0 (0x00000000) (0.00 B)
        		flags: count = 1
        			MEMORY_HEAP_DEVICE_LOCAL_BIT
        	memoryHeaps[1]:
        		size   = 33554432000 (0x7d0000000) (31.25 GiB)
        		budget = 30000000000 (0x6fc23ac00) (27.94 GiB)
        		flags:
        			None
        GPU1:
        VkPhysicalDeviceProperties:
        	deviceType        = PHYSICAL_DEVICE_TYPE_CPU
        	deviceName        = llvmpipe (LLVM 15.0.6, 256 bits)
        VkPhysicalDeviceMemoryProperties:
        memoryHeaps: count = 1
        	memoryHeaps[0]:
        		size   = 2147483648 (0x80000000) (2.00 GiB)
        		flags: count = 1
        			MEMORY_HEAP_DEVICE_LOCAL_BIT
        """;
    List<Device> d = GpuProbe.parseVulkaninfo(text);
    assertEquals(2, d.size());
    assertEquals(new Device("vulkan0", Device.VULKAN, 0, "AMD Radeon RX 7900 XTX (RADV NAVI31)", 24560, 19456, "", false, true), d.get(0));
    assertTrue(d.get(1).software());
    assertEquals(1, d.get(1).index());
  }

  @Test
  void namingABackendWithoutDevicesFailsSayingWhatToInstall() {
    var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> GpuProbe.probe(List.of(), "rocm"));
    assertTrue(e.getMessage().contains("dalang.node.devices"), e.getMessage());
    assertEquals(List.of(Device.CPU), GpuProbe.probe(List.of(), "cpu").stream().map(Device::kind).toList());
  }

  @Test
  void autoNeverTakesASoftwareDevice() {
    // On this machine lavapipe is the only Vulkan device (CI installs it); auto must not serve from it.
    assertTrue(GpuProbe.probe(List.of(), "auto").stream().noneMatch(Device::software));
  }

  @Test
  void refreshKeepsDevicesWithoutALiveReadingAsTheyAre() {
    var cfg = List.of(new Device("vk", Device.VULKAN, 0, "lavapipe", 2048, 100, "", true, false));
    assertEquals(cfg, GpuProbe.refresh(cfg));
  }
}
