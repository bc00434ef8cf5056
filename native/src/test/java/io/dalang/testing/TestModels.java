package io.dalang.testing;

import io.dalang.engine.provision.EngineEntry;
import io.dalang.engine.provision.EngineProvisioner;
import io.dalang.engine.provision.EngineSource;
import io.dalang.gguf.TinyModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Real parts for tests: the generated tiny model, and a llama-server provisioned through the real
 * engine provisioner (built once into the shared cache, a cache hit afterwards). Shared with the other
 * modules' tests through this module's test-jar.
 */
public final class TestModels {
  private static Path demo;
  private static EngineEntry llamaServer;

  private TestModels() {}

  /** The demo model, generated once per JVM into the system temp dir. */
  public static synchronized Path demoModel() {
    if (demo == null) {
      try {
        Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "dalang-test-models"));
        Path f = Files.createTempFile(dir, "dalang-demo", ".gguf");
        TinyModel.write(TinyModel.DEMO, f);
        f.toFile().deleteOnExit();
        demo = f;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return demo;
  }

  public static EngineProvisioner provisioner() {
    return new EngineProvisioner(EngineProvisioner.defaultCacheRoot(), line -> System.out.println("[provisioner] " + line));
  }

  /**
   * The provisioned llama-server (building it on first use: 6-14 minutes on 2 cores). Tests that need
   * it are skipped only when {@code -Ddalang.skipLlamaServerTests=true} is given explicitly.
   */
  public static synchronized EngineEntry llamaServer() {
    Assumptions.assumeFalse(Boolean.getBoolean("dalang.skipLlamaServerTests"), "llama-server tests skipped by -Ddalang.skipLlamaServerTests");
    if (llamaServer == null) llamaServer = provisioner().ensureLlamaServer(EngineSource.DEFAULT);
    return llamaServer;
  }

  public static Path llamaServerBinary() {
    return provisioner().binary(llamaServer(), "llama-server");
  }

  private static EngineEntry vulkanLlamaServer;

  /**
   * The llama-server built for Vulkan (15-30 minutes on 2 cores the first time; cached after), for the
   * GPU-path tests that run on Mesa's lavapipe. Fails (never skips) when the build falls back to the CPU
   * or the machine lacks what the build needs: CI installs it ({@code .ci/run}). Skipped only with
   * {@code -Ddalang.skipVulkanTests=true}.
   */
  public static synchronized EngineEntry vulkanLlamaServer() {
    Assumptions.assumeFalse(Boolean.getBoolean("dalang.skipVulkanTests"), "Vulkan tests skipped by -Ddalang.skipVulkanTests");
    if (vulkanLlamaServer == null) {
      var entry = new EngineProvisioner(EngineProvisioner.defaultCacheRoot(), line -> System.out.println("[provisioner] " + line), 1000)
          .ensureLlamaServer(EngineSource.DEFAULT, io.dalang.engine.provision.Backend.VULKAN);
      if (!"vulkan".equals(entry.backend())) throw new IllegalStateException("the Vulkan build of llama-server is not available: " + entry);
      vulkanLlamaServer = entry;
    }
    return vulkanLlamaServer;
  }
}
