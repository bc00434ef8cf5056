package io.dalang.runtime.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.EngineConfig;
import io.dalang.engine.EngineIdentity;
import io.dalang.engine.GpuBinding;
import io.dalang.engine.LlamaServerEngine;
import io.dalang.engine.Offload;
import io.dalang.engine.provision.Backend;
import io.dalang.engine.provision.EngineEntry;
import io.dalang.gguf.GgufReader;
import io.dalang.gguf.OffloadProfile;
import io.dalang.gguf.TinyModel;
import io.dalang.gpu.GpuProbe;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.node.Device;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU path on a real GPU API: llama-server built for Vulkan, running on Mesa's lavapipe (a Vulkan
 * driver that computes on the CPU). What a GPU node does is all here: the device is found, a slot is
 * bound to it with its layers offloaded (the engine's own log says so), placement computes a partial
 * offload when the device's memory is short, and two pools on two devices keep to their own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VulkanOffloadIT {
  /** The demo pool's shape (config/dalang.conf, dalang.demo). */
  static final int DEMO_CONTEXT = 4096;
  static final int DEMO_PARALLEL = 4;
  static final long OVERHEAD = 64L << 20;
  @TempDir static Path data;
  EngineEntry vulkan;
  Path binary;
  Path model;
  OffloadProfile profile;

  @BeforeAll
  void provision() throws Exception {
    vulkan = TestModels.vulkanLlamaServer();
    binary = TestModels.provisioner().binary(vulkan, "llama-server");
    model = TestModels.demoModel();
    profile = OffloadProfile.of(GgufReader.read(model), DEMO_CONTEXT, DEMO_PARALLEL, OVERHEAD);
  }

  @Test
  void theVulkanBuildSeesLavapipeAndTheProbeReportsItAsASoftwareGpu() throws Exception {
    var pb = new ProcessBuilder(binary.toString(), "--list-devices").redirectErrorStream(true);
    pb.environment().put("GGML_VK_VISIBLE_DEVICES", "0"); // ggml skips CPU-type Vulkan devices unless named
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertTrue(out.contains("Vulkan0: llvmpipe"), out);
    var devices = GpuProbe.probe(List.of(), "vulkan");
    Device d = devices.get(0);
    assertEquals(Device.VULKAN, d.kind());
    assertEquals(0, d.index());
    assertTrue(d.software() && d.name().startsWith("llvmpipe"), d.toString());
    assertTrue(d.memoryTotalMib() >= 1024, d.toString());
    assertEquals("vulkan", vulkan.backend());
    assertTrue(vulkan.toolchain().contains("vulkan headers"), vulkan.toolchain());
    assertEquals(List.of("vulkan-glslc2023-headers1.3.239.patch"), vulkan.patches().stream().map(s -> s.split(" ")[0]).toList());
  }

  @Test
  void everyLayerOnVulkan0GivesTheCpuBuildsTokensAndTheEstimateBoundsTheDeviceBuffers() throws Exception {
    List<String> onGpu;
    Offload offload;
    try (var gpu = engine(binary, new GpuBinding(Backend.VULKAN, 0, OffloadProfile.ALL_LAYERS), "full", vulkan)) {
      gpu.start();
      offload = gpu.offload();
      onGpu = tokens(gpu);
    }
    assertEquals(new Offload(3, 3, "Vulkan0", offload.modelMib(), offload.kvMib(), offload.computeMib()), offload);
    assertTrue(offload.modelMib() > 0 && offload.kvMib() > 0 && offload.computeMib() > 0, offload.toString());
    // The estimator against the engine's own report of the device's buffers, at the engine's context: over, never under.
    var atEngine = OffloadProfile.of(GgufReader.read(model), 512, 1, 0);
    double estimated = atEngine.deviceBytes(atEngine.layers()) / 1048576.0;
    System.out.printf("Vulkan0 buffers: model %.2f + KV %.2f + compute %.2f = %.2f MiB; estimated %.2f MiB (%+.1f%%)%n",
        offload.modelMib(), offload.kvMib(), offload.computeMib(), offload.deviceMib(), estimated,
        100 * (estimated / offload.deviceMib() - 1));
    assertTrue(estimated >= offload.deviceMib() - 0.01, "estimate " + estimated + " below the engine's " + offload.deviceMib());
    assertTrue(estimated <= offload.deviceMib() * 1.5, "estimate " + estimated + " more than 50% over " + offload.deviceMib());

    var cpuEntry = TestModels.llamaServer();
    List<String> onCpu;
    try (var cpu = engine(TestModels.llamaServerBinary(), GpuBinding.CPU, "cpu", cpuEntry)) {
      cpu.start();
      assertEquals(Offload.NONE, cpu.offload());
      onCpu = tokens(cpu);
    }
    // Greedy decoding of the same model: the GPU's float order differs from the CPU's only within
    // llama.cpp's tolerance, which on this model does not change the argmax.
    assertEquals(onCpu, onGpu);
  }

  @Test
  void aBindingWithFewerLayersOffloadsExactlyThoseAndTheRestStaysOnTheCpu() throws Exception {
    try (var gpu = engine(binary, new GpuBinding(Backend.VULKAN, 0, 1), "one-layer", vulkan)) {
      gpu.start();
      assertEquals(1, gpu.offload().layersOffloaded());
      assertEquals(3, gpu.offload().layersTotal());
      assertEquals(8, tokens(gpu).size());
    }
  }

  @Test
  void aNodeServesFromVulkan0AndAPoolWithoutRoomThereRunsOnItsCpuSeeingNoGpu() throws Exception {
    // vk0 holds exactly one whole replica of the demo model; cpu0 is the node's CPU.
    long room = profile.deviceMib(profile.layers()) + 8;
    Path dir = data.resolve("two-pools");
    Path conf = config(dir, room);
    try (var node = DalangNode.start(new ServeOptions(dir, 0, null, 0, conf, "llama-server", null, "vulkan"), System.out)) {
      var admin = new ApiClient(node.httpPort(), Files.readString(dir.resolve("admin.key")).strip());
      var user = new ApiClient(node.httpPort(), node.demoKey());
      user.awaitReady(Duration.ofSeconds(240));
      var run = complete(user, "dalang-demo");
      assertEquals("vk0", run.get("device").asText(), run.toString());
      assertEquals(3, run.get("gpu_layers").asInt(), run.toString());

      assertEquals(201, admin.post("/admin/v1/pools", "{\"id\": \"second\", \"model_id\": \"second\", \"model_path\": \"" + model
          + "\", \"engine\": \"llama-server\", \"context_per_sequence\": 4096, \"parallel\": 4, \"threads\": 1}").statusCode());
      assertEquals(200, admin.post("/admin/v1/tenants/demo/pools", "{\"pool\": \"second\"}").statusCode());
      JsonNode slot = awaitReadySlot(admin, "second");
      assertEquals("cpu0", slot.get("device").asText(), "no room left on vk0: " + slot);
      var second = complete(user, "second");
      assertEquals("cpu0", second.get("device").asText());
      assertEquals(0, second.get("gpu_layers").asInt());
      // Its llama-server saw no Vulkan device at all, so it cannot touch vk0's.
      String log = Files.readString(dir.resolve("engines").resolve(slot.get("slot_id").asText()).resolve("llama-server.log"));
      assertTrue(!log.contains("Vulkan"), "the CPU slot's engine log names no Vulkan device");
      String demoLog = Files.readString(dir.resolve("engines").resolve("demo-0").resolve("llama-server.log"));
      assertTrue(demoLog.contains("offloaded 3/3 layers to GPU") && demoLog.contains("Vulkan0 model buffer size"), "demo-0 is on Vulkan0");

      JsonNode fleet = ApiClient.json(admin.get("/admin/v1/fleet").body());
      for (JsonNode s : fleet.get("slots")) {
        if (s.get("slot_id").asText().equals("demo-0")) {
          assertEquals("vulkan", s.get("device_kind").asText());
          assertEquals(3, s.get("gpu_layers").asInt());
        }
      }
    }
  }

  @Test
  void placementOffloadsOnlyTheLayersThatFitADeviceWithLittleMemory() throws Exception {
    long room = profile.deviceMib(1); // the output head, the compute buffer and the overhead: one layer
    Path dir = data.resolve("partial");
    try (var node = DalangNode.start(new ServeOptions(dir, 0, null, 0, config(dir, room), "llama-server", null, "vulkan"), System.out)) {
      var user = new ApiClient(node.httpPort(), node.demoKey());
      user.awaitReady(Duration.ofSeconds(240));
      var run = complete(user, "dalang-demo");
      assertEquals(1, run.get("gpu_layers").asInt(), run.toString());
      String log = Files.readString(dir.resolve("engines").resolve("demo-0").resolve("llama-server.log"));
      assertTrue(log.contains("offloaded 1/3 layers to GPU"), "the engine put exactly the placed layers on Vulkan0");
    }
  }

  @Test
  void nodeDoctorChecksTheDriverTheBuildAndOneTokenOnTheDevice() {
    var run = io.dalang.runtime.testing.DalangCli.dalang("node", "doctor", "--backend", "vulkan", "--no-build");
    assertEquals(0, run.code(), run.out() + run.err());
    assertTrue(run.out().contains("vulkaninfo: [vulkan0 llvmpipe"), run.out());
    assertTrue(run.out().contains("ok    vulkan llama-server: "), run.out());
    assertTrue(run.out().matches("(?s).*ok    vulkan0: generated 1 token, 3/3 layers on Vulkan0.*"), run.out());
    assertTrue(run.out().contains("all checks passed"), run.out());
    // A backend this machine lacks fails, saying what was looked for.
    var cuda = io.dalang.runtime.testing.DalangCli.dalang("node", "doctor", "--backend", "cuda", "--no-build");
    if (GpuProbe.nvidiaSmi().isEmpty()) {
      assertEquals(1, cuda.code());
      assertTrue(cuda.out().contains("FAIL  backend cuda: nvidia-smi found no GPU"), cuda.out());
    }
  }

  // Helpers

  private static Path config(Path dir, long vk0FreeMib) throws Exception {
    Files.createDirectories(dir.getParent());
    return Files.writeString(dir.resolveSibling(dir.getFileName() + ".conf"), """
        dalang.node.devices = [
          { id = vk0, kind = vulkan, index = 0, name = "llvmpipe", memory-total-mib = 2048, memory-free-mib = %d, software = true }
          { id = cpu0, kind = cpu, index = 0, name = "cpu", memory-total-mib = 8192 }
        ]
        dalang.engine.start-timeout = 240 s
        # Only the chat pool: the test reasons about the device memory its one replica takes.
        dalang.demo.embed-pool = ""
        """.formatted(vk0FreeMib));
  }

  private LlamaServerEngine engine(Path bin, GpuBinding gpu, String name, EngineEntry entry) {
    var cfg = new EngineConfig(model, 512, 1, 2, Duration.ofSeconds(240), data.resolve("engine-" + name), false, List.of(), gpu);
    return new LlamaServerEngine(cfg, bin, new EngineIdentity(LlamaServerEngine.KIND, entry.version(), entry.binarySha256()));
  }

  /** Eight tokens at temperature 0 from a fixed prompt. */
  private static List<String> tokens(LlamaServerEngine e) throws Exception {
    var out = new ArrayList<String>();
    var done = new CompletableFuture<GenerationEvent>();
    e.generate(new GenerationRequest("run_gpu", "The river", null, 8, 0.0, 1.0, 7L, List.of()), ev -> {
      if (ev instanceof GenerationEvent.Token t) out.add(t.text());
      if (ev.isTerminal()) done.complete(ev);
    });
    var last = done.get(120, TimeUnit.SECONDS);
    assertTrue(last instanceof GenerationEvent.End, last.toString());
    return out;
  }

  private static JsonNode complete(ApiClient user, String modelId) throws Exception {
    var resp = user.post("/v1/completions", "{\"model\": \"" + modelId + "\", \"prompt\": \"Hello\", \"max_tokens\": 6, \"temperature\": 0}");
    assertEquals(200, resp.statusCode(), resp.body());
    String runId = resp.headers().firstValue("x-dalang-run-id").orElseThrow();
    return user.awaitRun(runId, Duration.ofSeconds(30));
  }

  private static JsonNode awaitReadySlot(ApiClient admin, String pool) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(240).toNanos();
    while (System.nanoTime() < deadline) {
      JsonNode p = ApiClient.json(admin.get("/admin/v1/pools/" + pool).body());
      for (JsonNode s : p.path("slots")) if ("Ready".equals(s.path("state").asText())) return s;
      Thread.sleep(500);
    }
    throw new AssertionError("pool " + pool + " has no Ready slot after 240 s");
  }
}
