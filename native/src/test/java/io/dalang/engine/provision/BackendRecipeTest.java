package io.dalang.engine.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BackendRecipeTest {
  @TempDir Path dir;

  @Test
  void theCpuRecipeAddsNothingToTheKeySoEarlierCpuBuildsStayCached() {
    var cpu = EngineProvisioner.Recipe.of(EngineSource.DEFAULT, Backend.CPU);
    assertEquals("", cpu.keySuffix());
    assertEquals(EngineProvisioner.FLAGS, cpu.flags());
    assertEquals(List.of(), cpu.patches());
  }

  @Test
  void aGpuRecipeKeysOnItsBackendFlagsToolchainAndPatches() {
    var vk = EngineProvisioner.Recipe.of(EngineSource.DEFAULT, Backend.VULKAN);
    assertTrue(vk.flags().contains("-DGGML_VULKAN=ON"));
    assertTrue(vk.keySuffix().contains("backend=vulkan"));
    assertTrue(vk.keySuffix().contains("toolchain=" + vk.toolchain()));
    assertEquals(1, vk.patches().size());
    assertTrue(vk.keySuffix().contains("patch=vulkan-glslc2023-headers1.3.239.patch " + vk.patches().get(0).sha256()));
    assertNotEquals(vk.keySuffix(), EngineProvisioner.Recipe.of(EngineSource.DEFAULT, Backend.CUDA).keySuffix());
  }

  @Test
  void theVulkanPatchGuardsWhatDebian12sGlslcAndHeadersLack() {
    String text = EngineProvisioner.Patch.load("vulkan-glslc2023-headers1.3.239.patch").text();
    assertTrue(text.contains("+#if defined(GGML_VULKAN_COOPMAT_GLSLC_SUPPORT)"));
    assertTrue(text.contains("+#ifdef VK_EXT_layer_settings"));
  }

  @Test
  void readsTheVulkanHeaderVersion() throws Exception {
    Path h = Files.writeString(dir.resolve("vulkan_core.h"), """
        #define VK_HEADER_VERSION 239
        #define VK_HEADER_VERSION_COMPLETE VK_MAKE_API_VERSION(0, 1, 3, VK_HEADER_VERSION)
        """);
    assertEquals("1.3.239", EngineProvisioner.vulkanHeaderVersion(h));
    assertEquals("unknown", EngineProvisioner.vulkanHeaderVersion(dir.resolve("absent.h")));
  }

  @Test
  void backendsParseAndNameTheirDevicesAsLlamaCppDoes() {
    assertEquals(Backend.VULKAN, Backend.parse(" Vulkan "));
    assertEquals("Vulkan0", Backend.VULKAN.engineDeviceName(0));
    assertEquals("CUDA2", Backend.CUDA.engineDeviceName(2));
    assertEquals("", Backend.CPU.engineDeviceName(0));
    assertEquals(Backend.CPU, Backend.ofDeviceKind("cpu"));
    assertEquals(Backend.VULKAN, Backend.ofDeviceKind("vulkan"));
    assertThrows(IllegalArgumentException.class, () -> Backend.parse("metal"));
    assertFalse(Backend.CPU.gpu());
  }

  @Test
  void aGpuBuildThatFailedTooOftenGivesWayToTheCpuBuildWithAWarning() throws Exception {
    // Only the failure bookkeeping is exercised here: the CPU build itself comes from the shared cache.
    var lines = new java.util.ArrayList<String>();
    var root = io.dalang.engine.provision.EngineProvisioner.defaultCacheRoot();
    var p = new EngineProvisioner(root, lines::add, 1);
    var cpu = p.ensureLlamaServer(EngineSource.DEFAULT, Backend.CPU);
    String key = cpu.engineId();
    assertEquals("cpu", cpu.backend());
    // The ROCm key on this machine (no hipcc): mark it failed once, and ask for it.
    var rocm = EngineProvisioner.Recipe.of(EngineSource.DEFAULT, Backend.ROCM);
    String rocmKey = EngineProvisioner.key(cpu.sourceDigest(), rocm);
    Path failures = root.resolve("engines/llama-server").resolve(rocmKey + ".failures");
    Files.writeString(failures, "1\nhipcc: not found\n");
    try {
      var got = p.ensureLlamaServer(EngineSource.DEFAULT, Backend.ROCM);
      assertEquals(key, got.engineId(), "the CPU build stands in");
      assertTrue(lines.stream().anyMatch(l -> l.contains("rocm build of llama-server failed 1 time") && l.contains(failures.toString())), lines.toString());
    } finally {
      Files.deleteIfExists(failures);
    }
  }

  @Test
  void aMissingToolchainFailsAtOnceNamingWhatToInstall() {
    if (Backend.ROCM.missingBuildPrerequisites().isEmpty()) return; // a ROCm machine: nothing is missing
    var p = new EngineProvisioner(EngineProvisioner.defaultCacheRoot(), l -> { }, 2);
    var e = assertThrows(io.dalang.engine.EngineException.class, () -> p.ensureLlamaServer(EngineSource.DEFAULT, Backend.ROCM));
    assertTrue(e.getMessage().contains("hipcc"), e.getMessage());
  }
}
