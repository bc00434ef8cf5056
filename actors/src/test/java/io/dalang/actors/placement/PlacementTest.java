package io.dalang.actors.placement;

import io.dalang.actors.TimeSource;
import io.dalang.actors.placement.internal.FleetTable;
import static io.dalang.actors.placement.Slots.fleet;
import static io.dalang.actors.placement.Slots.slot;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlacementTest {
  static final long TTL = 10_000_000_000L;

  static PlacementDecision decide(FleetTable f, PlacementSpec job) {
    return new Placement(PlacementPolicy.LEAST_LOADED, TTL, 64, TimeSource.SYSTEM).decide(f, job, "run_1", "t1");
  }

  static PlacementSpec job(int prompt, int max) {
    return PlacementSpec.of("m", Set.of("p"), prompt, max);
  }

  @Test
  void leastLoadedPicksTheLargestShareOfFreeSequencesAndBreaksTiesBySlotId() {
    var f = fleet(slot("b", "p", "m", "Ready", 2), slot("a", "p", "m", "Ready", 2), slot("c", "p", "m", "Ready", 1),
        slot("d", "p", "m", "Loading", 4));
    var d = decide(f, job(10, 16));
    assertEquals("a", d.chosen());
    assertNull(d.error());
    assertEquals(4, d.candidates().size(), "every slot of the model is narrated");
    var loading = d.candidates().stream().filter(c -> c.slot().slotId().equals("d")).findFirst().orElseThrow();
    assertEquals(java.util.List.of("slot is Loading, not Ready"), loading.reasons(d.spec()));
  }

  @Test
  void neverPlacesOnAPoolTheTenantMayNotUse() {
    var d = decide(fleet(slot("a", "other", "m", "Ready", 4)), job(10, 16));
    assertNull(d.chosen());
    assertEquals(ErrorCode.NO_READY_SLOT, d.error().code());
    assertEquals(java.util.List.of("pool 'other' is not one of the tenant's pools"), d.candidates().get(0).reasons(d.spec()));
  }

  @Test
  void saysWhichSlotsExistWhenNoneIsReady() {
    var d = decide(fleet(slot("a", "p", "m", "Loading", 4), slot("b", "p", "m", "Failed", 0)), job(10, 16));
    assertEquals(ErrorCode.NO_READY_SLOT, d.error().code());
    assertTrue(d.error().message().contains("a: slot is Loading, not Ready"), d.error().message());
    assertTrue(d.error().message().contains("b: slot is Failed, not Ready"), d.error().message());
  }

  @Test
  void promptPlusMaxTokensMustFitTheSlotsContext() {
    var f = fleet(slot("a", "p", "m", "n1", "Ready", 512, 4, 4, 0, System.currentTimeMillis()));
    var d = decide(f, job(100, 413));
    assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, d.error().code());
    assertTrue(d.error().message().contains("needs 513 tokens"), d.error().message());
    assertTrue(d.error().message().contains("a: 512"), d.error().message());
    assertEquals("a", decide(f, job(100, 412)).chosen(), "exactly the context fits");
  }

  @Test
  void aSmallSlotIsSkippedForABigJobAndUsedForASmallOne() {
    long now = System.currentTimeMillis();
    var f = fleet(slot("a-small", "p", "m", "n1", "Ready", 1024, 4, 4, 0, now), slot("b-big", "p", "m", "n1", "Ready", 8192, 4, 1, 0, now));
    assertEquals("b-big", decide(f, job(500, 1000)).chosen());
    assertEquals("a-small", decide(f, job(100, 100)).chosen());
  }

  @Test
  void deviceQuantizationAndExtensionMismatchesAreTypedAndExplained() {
    var base = slot("a", "p", "m", "Ready", 4);
    var cpu = Slots.device(slot("b", "p", "m", "Ready", 4), "cpu", "", "F16", Set.of());
    var f = fleet(base, cpu);
    var needsAll = new PlacementSpec("m", Set.of("p"), 10, 10, Set.of("grammar", "logprobs"), "", Set.of());
    var d = decide(f, needsAll);
    assertEquals(ErrorCode.UNSUPPORTED_PARAMETER, d.error().code(), "no slot's engine can: the request's to change");
    assertEquals("logprobs", d.error().param(), "names the first parameter no engine serves (sorted)");
    assertTrue(d.error().message().startsWith("'logprobs', 'response_format' cannot be served by the engine of model 'm' (llama-server)"),
        d.error().message());
    assertTrue(d.error().message().contains("a: engine llama-server lacks logprobs"), d.error().message());
    assertTrue(d.error().message().contains("b: engine llama-server lacks grammar, logprobs"), d.error().message());

    var needsAmpere = new PlacementSpec("m", Set.of("p"), 10, 10, Set.of(), "8.0", Set.of());
    assertEquals("a", decide(f, needsAmpere).chosen(), "8.6 >= 8.0; the CPU device has no compute capability");
    var needsHopper = new PlacementSpec("m", Set.of("p"), 10, 10, Set.of(), "9.0", Set.of());
    var h = decide(f, needsHopper);
    assertEquals(ErrorCode.NO_FEASIBLE_SLOT, h.error().code());
    assertTrue(h.error().message().contains("needs compute capability 9.0, device gpu0 is 8.6"), h.error().message());

    var wantsF16 = new PlacementSpec("m", Set.of("p"), 10, 10, Set.of(), "", Set.of("F16", "BF16"));
    assertEquals("b", decide(f, wantsF16).chosen());
  }

  @Test
  void embeddingRunsGoOnlyToEmbeddingSlotsAndGenerationRunsNeverDo() {
    var gen = slot("a", "p", "m", "Ready", 4);
    var embed = Slots.device(slot("b", "p", "m", "Ready", 4), "cpu", "", "F16", Set.of("embeddings"));
    var embedRun = new PlacementSpec("m", Set.of("p"), 10, 0, Set.of("embeddings"), "", Set.of());
    var chatRun = new PlacementSpec("m", Set.of("p"), 10, 10, Set.of(), "", Set.of());
    assertEquals("b", decide(fleet(gen, embed), embedRun).chosen());
    assertEquals("a", decide(fleet(gen, embed), chatRun).chosen());

    var onlyEmbed = decide(fleet(embed), chatRun);
    assertEquals(ErrorCode.UNSUPPORTED_PARAMETER, onlyEmbed.error().code(), "the request's to send to another model");
    assertEquals("model", onlyEmbed.error().param());
    assertTrue(onlyEmbed.error().message().startsWith("model 'm' is served for embed (its pool's task), not for generate"),
        onlyEmbed.error().message());
    assertTrue(onlyEmbed.error().message().contains("b: slot serves task 'embed', the run is 'generate'"), onlyEmbed.error().message());

    var rerankRun = new PlacementSpec("m", Set.of("p"), 10, 0, Set.of("rerank"), "", Set.of());
    var noRerank = decide(fleet(gen, embed), rerankRun);
    assertEquals(ErrorCode.UNSUPPORTED_PARAMETER, noRerank.error().code());
    assertTrue(noRerank.error().message().contains("/v1/rerank"), noRerank.error().message());
  }

  @Test
  void policiesChooseDifferentlyOnTheSameFleet() {
    long now = System.currentTimeMillis();
    var f = fleet(slot("a", "p", "m", "n1", "Ready", 4096, 16, 12, 0, now), // 3/4 free, but 4 sequences busy on n1
        slot("b", "p", "m", "n2", "Ready", 4096, 4, 2, 0, now), // half free, 2 busy on n2
        slot("c", "p", "m", "n3", "Ready", 4096, 4, 1, 0, now)); // the busiest slot that has room, 3 busy on n3
    assertEquals("a", new Placement(PlacementPolicy.LEAST_LOADED, TTL, 8, TimeSource.SYSTEM).decide(f, job(1, 1), "r", "t").chosen());
    assertEquals("c", new Placement(PlacementPolicy.BIN_PACK, TTL, 8, TimeSource.SYSTEM).decide(f, job(1, 1), "r", "t").chosen());
    assertEquals("b", new Placement(PlacementPolicy.SPREAD, TTL, 8, TimeSource.SYSTEM).decide(f, job(1, 1), "r", "t").chosen());
  }

  @Test
  void binPackFallsBackToTheShortestQueueWhenEverySlotIsFull() {
    long now = System.currentTimeMillis();
    var f = fleet(slot("a", "p", "m", "n1", "Ready", 4096, 4, 0, 5, now), slot("b", "p", "m", "n1", "Ready", 4096, 4, 0, 2, now));
    assertEquals("b", new Placement(PlacementPolicy.BIN_PACK, TTL, 8, TimeSource.SYSTEM).decide(f, job(1, 1), "r", "t").chosen());
  }

  @Test
  void theCacheServesAJobClassUntilTheFleetsStructureChangesAndRescoresOnTheCurrentLoad() {
    var a = slot("a", "p", "m", "Ready", 4);
    var b = slot("b", "p", "m", "Ready", 3);
    var f = fleet(a, b);
    var placement = new Placement(PlacementPolicy.LEAST_LOADED, TTL, 64, TimeSource.SYSTEM);
    var first = placement.decide(f, job(10, 100), "r1", "t");
    assertFalse(first.cacheHit());
    assertEquals("a", first.chosen());

    // Same class (context 110 and 120 share a bucket), load moved: cached filtering, fresh score.
    assertFalse(f.update(Slots.load(a, 0, 3)), "a load change keeps the version");
    var second = placement.decide(f, job(20, 100), "r2", "t");
    assertTrue(second.cacheHit());
    assertEquals("b", second.chosen());
    assertEquals(first.snapshotVersion(), second.snapshotVersion());

    // b goes Loading: a structural change, so the cached filtering must not be used.
    assertTrue(f.update(Slots.withState(b, "Loading")));
    var third = placement.decide(f, job(20, 100), "r3", "t");
    assertFalse(third.cacheHit());
    assertEquals("a", third.chosen(), "b is no longer Ready");
    assertTrue(third.snapshotVersion() > second.snapshotVersion());
    assertEquals(1, placement.cacheHits());
    assertEquals(2, placement.cacheMisses());
  }

  @Test
  void aCachedFilteringExpiresAfterItsTtl() throws InterruptedException {
    var f = fleet(slot("a", "p", "m", "Ready", 4));
    var placement = new Placement(PlacementPolicy.LEAST_LOADED, 1_000_000L, 64, TimeSource.SYSTEM); // 1 ms
    placement.decide(f, job(1, 1), "r1", "t");
    Thread.sleep(5);
    assertFalse(placement.decide(f, job(1, 1), "r2", "t").cacheHit());
  }

  @Test
  void aDisabledCacheNeverHits() {
    var f = fleet(slot("a", "p", "m", "Ready", 4));
    var placement = new Placement(PlacementPolicy.LEAST_LOADED, 0, 64, TimeSource.SYSTEM);
    placement.decide(f, job(1, 1), "r1", "t");
    assertFalse(placement.decide(f, job(1, 1), "r2", "t").cacheHit());
    assertEquals(0, placement.cacheSize());
  }

  @Test
  void jobClassHashIsStableAndSeparatesClasses() {
    assertEquals(job(10, 100).requirements().hash(), job(20, 100).requirements().hash());
    assertFalse(job(10, 100).requirements().hash().equals(job(10, 1000).requirements().hash()));
    assertEquals(16, job(1, 1).requirements().hash().length());
    assertEquals(128, PlacementSpec.contextBucket(100));
    assertEquals(128, PlacementSpec.contextBucket(128));
    assertEquals(256, PlacementSpec.contextBucket(129));
  }
}
