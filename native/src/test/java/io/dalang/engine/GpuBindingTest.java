package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dalang.engine.provision.Backend;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GpuBindingTest {

  @Test
  void aVulkanSlotSeesOnlyItsDeviceWhichIsThenVulkan0() {
    var b = new GpuBinding(Backend.VULKAN, 1, 17);
    assertEquals(List.of("--device", "Vulkan0", "-ngl", "17", "--fit", "off", "-lv", "4"), b.llamaServerArgs());
    assertEquals(Map.of("CUDA_DEVICE_ORDER", "PCI_BUS_ID", "GGML_VK_VISIBLE_DEVICES", "1", "CUDA_VISIBLE_DEVICES", "-1", "HIP_VISIBLE_DEVICES", "-1"), b.environment());
  }

  @Test
  void aCudaSlotHidesTheOtherBackendsDevices() {
    var b = new GpuBinding(Backend.CUDA, 3, 999);
    assertEquals(List.of("--device", "CUDA0", "-ngl", "999", "--fit", "off", "-lv", "4"), b.llamaServerArgs());
    assertEquals(Map.of("CUDA_DEVICE_ORDER", "PCI_BUS_ID", "GGML_VK_VISIBLE_DEVICES", "", "CUDA_VISIBLE_DEVICES", "3", "HIP_VISIBLE_DEVICES", "-1"), b.environment());
  }

  @Test
  void aCpuSlotSeesNoGpuAtAllAndGetsNoDeviceArguments() {
    assertEquals(List.of(), GpuBinding.CPU.llamaServerArgs());
    assertEquals(Map.of("CUDA_DEVICE_ORDER", "PCI_BUS_ID", "GGML_VK_VISIBLE_DEVICES", "", "CUDA_VISIBLE_DEVICES", "-1", "HIP_VISIBLE_DEVICES", "-1"),
        GpuBinding.CPU.environment());
    // Zero layers on a GPU is the CPU too: nothing would go to the device.
    assertEquals(GpuBinding.CPU.environment(), new GpuBinding(Backend.VULKAN, 0, 0).environment());
  }

  @Test
  void rejectsNegativeIndexOrLayers() {
    assertThrows(IllegalArgumentException.class, () -> new GpuBinding(Backend.VULKAN, -1, 1));
    assertThrows(IllegalArgumentException.class, () -> new GpuBinding(Backend.VULKAN, 0, -1));
  }
}
