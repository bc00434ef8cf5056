package io.dalang.actors.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.node.Device;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SlotFeasibilityTest {
  static final SlotFeasibility.Candidate CPU = new SlotFeasibility.Candidate("n1", new Device("cpu0", Device.CPU, 0, "cpu", 32000, 20000, ""));
  static final SlotFeasibility.Candidate SMALL_GPU = new SlotFeasibility.Candidate("n2", new Device("gpu0", Device.CUDA, 0, "T4", 16000, 15000, "7.5"));
  static final SlotFeasibility.Candidate BIG_GPU = new SlotFeasibility.Candidate("n3", new Device("gpu0", Device.CUDA, 0, "H100", 81000, 80000, "9.0"));

  @Test
  void everyRejectedCandidateSaysWhy() {
    var req = new SlotFeasibility.Requirements(40000, "8.0", false, Set.of("grammar"));
    var v = SlotFeasibility.evaluate(req, List.of(CPU, SMALL_GPU, BIG_GPU), Set.of("grammar", "logprobs"));
    assertEquals(List.of("needs 40000 MiB, device has 20000 MiB free", "the engine cannot run this model on a CPU device"), v.get(0).reasons());
    assertEquals(List.of("needs 40000 MiB, device has 15000 MiB free", "needs compute capability 8.0, device has 7.5"), v.get(1).reasons());
    assertTrue(v.get(2).feasible());
    assertEquals(BIG_GPU, SlotFeasibility.choose(v).orElseThrow());
  }

  @Test
  void noFeasibleCandidateChoosesNothing() {
    var req = new SlotFeasibility.Requirements(100, "", true, Set.of("embeddings"));
    var v = SlotFeasibility.evaluate(req, List.of(CPU, BIG_GPU), Set.of("grammar"));
    assertTrue(SlotFeasibility.choose(v).isEmpty());
    assertTrue(v.get(0).toString().contains("lacks extension 'embeddings'"), v.get(0).toString());
  }

  @Test
  void theChoiceIsDeterministicMostFreeMemoryThenLowestIds() {
    var a = new SlotFeasibility.Candidate("n2", new Device("gpu1", Device.CUDA, 1, "A", 100, 50, "9.0"));
    var b = new SlotFeasibility.Candidate("n1", new Device("gpu1", Device.CUDA, 1, "A", 100, 50, "9.0"));
    var c = new SlotFeasibility.Candidate("n1", new Device("gpu0", Device.CUDA, 0, "A", 100, 50, "9.0"));
    var req = new SlotFeasibility.Requirements(10, "", true, Set.of());
    for (var order : List.of(List.of(a, b, c), List.of(c, b, a), List.of(b, a, c))) {
      assertEquals(c, SlotFeasibility.choose(SlotFeasibility.evaluate(req, order, Set.of())).orElseThrow());
    }
  }

  @Test
  void comparesComputeCapabilitiesNumerically() {
    assertTrue(SlotFeasibility.compareCapability("10.0", "9.0") > 0);
    assertTrue(SlotFeasibility.compareCapability("8.6", "8.9") < 0);
    assertEquals(0, SlotFeasibility.compareCapability("9.0", "9"));
    assertTrue(SlotFeasibility.compareCapability("", "7.0") < 0);
  }

  @Test
  void memoryPromisedToSlotsPlacedEarlierIsNotFreeAndNoFitIsATypedErrorThatSaysWhy() {
    var req = new SlotFeasibility.Requirements(6_000, "", true, Set.of());
    var gpu = new SlotFeasibility.Candidate("n1", new io.dalang.protocols.node.Device("gpu0", "cuda", 0, "A", 16_000, 10_000, "8.6"));
    var reserved = new java.util.HashMap<String, Long>();
    assertEquals(gpu, SlotFeasibility.placeOrExplain("slot a", req, List.of(gpu), Set.of(), reserved));
    reserved.put(SlotFeasibility.deviceKey(gpu), 6_000L);
    var e = org.junit.jupiter.api.Assertions.assertThrows(io.dalang.protocols.error.DalangException.class,
        () -> SlotFeasibility.placeOrExplain("slot b", req, List.of(gpu), Set.of(), reserved));
    assertEquals(io.dalang.protocols.error.ErrorCode.NO_FEASIBLE_SLOT, e.code());
    assertTrue(e.getMessage().contains("n1/gpu0: needs 6000 MiB, device has 4000 MiB free (6000 MiB promised to slots placed there)"),
        e.getMessage());
  }

  /** Three layers of 100 MiB each, 50 MiB of compute buffer and 14 of overhead: 64 + 100 per layer. */
  static final io.dalang.gguf.OffloadProfile PROFILE = new io.dalang.gguf.OffloadProfile(
      new long[] {100L << 20, 100L << 20, 100L << 20}, 50L << 20, 14L << 20);

  static SlotFeasibility.Candidate vulkan(String node, long freeMib) {
    return new SlotFeasibility.Candidate(node, new Device("vulkan0", Device.VULKAN, 0, "gpu", 4096, freeMib, "", false, true));
  }

  static SlotFeasibility.Requirements offload(boolean partial, Set<String> kinds) {
    return new SlotFeasibility.Requirements(400, "", true, Set.of(), PROFILE, partial, kinds);
  }

  @Test
  void aGpuThatHoldsOnlySomeLayersTakesThemWhenThePoolAllowsAPartialOffload() {
    var v = SlotFeasibility.evaluate(offload(true, SlotFeasibility.ALL_DEVICE_KINDS), List.of(vulkan("n1", 300), vulkan("n2", 400)), Set.of());
    assertEquals(2, v.get(0).gpuLayers(), "64 + 2 × 100 = 264 MiB fit in 300");
    assertEquals(264, v.get(0).memoryMib());
    assertEquals(3, v.get(1).gpuLayers(), "all three: 364 MiB");
    assertEquals(364, v.get(1).memoryMib());
    assertEquals("n2", SlotFeasibility.best(v).orElseThrow().candidate().nodeId(), "a full offload wins over a partial one");
    assertTrue(v.get(0).toString().contains("2 layers on the device, partial"), v.get(0).toString());
  }

  @Test
  void aPoolThatWantsAFullOffloadOrADeviceWithoutRoomForOneLayerIsInfeasibleAndSaysSo() {
    var full = SlotFeasibility.evaluate(offload(false, SlotFeasibility.ALL_DEVICE_KINDS), List.of(vulkan("n1", 300)), Set.of());
    assertEquals(List.of("needs 364 MiB for all 3 layers, device has 300 MiB free; the pool wants a full offload (gpu_offload: full)"),
        full.get(0).reasons());
    var tiny = SlotFeasibility.evaluate(offload(true, SlotFeasibility.ALL_DEVICE_KINDS), List.of(vulkan("n1", 100)), Set.of());
    assertEquals(List.of("needs 364 MiB for all 3 layers, device has 100 MiB free; not even one layer fits"), tiny.get(0).reasons());
  }

  @Test
  void aCpuOnlyEngineIsNeverGivenAGpuAndAGpuBeatsTheCpuForOneThatCanUseIt() {
    var cpuOnly = SlotFeasibility.evaluate(offload(true, Set.of(Device.CPU)), List.of(vulkan("n1", 4000), CPU), Set.of());
    assertEquals(List.of("the engine cannot drive a vulkan device (it runs on the CPU only)"), cpuOnly.get(0).reasons());
    assertEquals(CPU, SlotFeasibility.choose(cpuOnly).orElseThrow());
    assertEquals(0, cpuOnly.get(1).gpuLayers());
    var any = SlotFeasibility.evaluate(offload(true, SlotFeasibility.ALL_DEVICE_KINDS), List.of(CPU, vulkan("n9", 300)), Set.of());
    assertEquals("n9", SlotFeasibility.best(any).orElseThrow().candidate().nodeId(), "2 layers on a GPU beat 20 GB free on a CPU");
  }
}
