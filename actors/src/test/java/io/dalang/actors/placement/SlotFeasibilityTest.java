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
}
