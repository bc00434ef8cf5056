package io.dalang.actors.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.dalang.protocols.error.ErrorCode;
import java.util.HashMap;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlacementActorTest {

  static SlotStatus slot(String id, String pool, String model, String state, int free, long publishedAt) {
    return new SlotStatus(id, pool, model, "n1", "cpu0", state, "llama-inprocess", "v", 512, 4, free, 0, 0, -1, "", null, publishedAt);
  }

  @Test
  void picksTheReadySlotWithTheMostFreeSequencesAndBreaksTiesBySlotId() {
    long now = System.currentTimeMillis();
    var fleet = List.of(slot("b", "p", "m", "Ready", 2, now), slot("a", "p", "m", "Ready", 2, now),
        slot("c", "p", "m", "Ready", 1, now), slot("d", "p", "m", "Loading", 4, now));
    var placed = assertInstanceOf(PlacementActor.Placed.class, PlacementActor.place(fleet, "m", Set.of("p"), 16));
    assertEquals("a", placed.slot().slotId());
  }

  @Test
  void neverPlacesOnAPoolTheTenantMayNotUse() {
    long now = System.currentTimeMillis();
    var fleet = List.of(slot("a", "other", "m", "Ready", 4, now));
    var r = assertInstanceOf(PlacementActor.Rejected.class, PlacementActor.place(fleet, "m", Set.of("p"), 16));
    assertEquals(ErrorCode.NO_READY_SLOT, r.error().code());
  }

  @Test
  void saysWhichSlotsExistWhenNoneIsReady() {
    long now = System.currentTimeMillis();
    var fleet = List.of(slot("a", "p", "m", "Loading", 4, now), slot("b", "p", "m", "Failed", 0, now));
    var r = assertInstanceOf(PlacementActor.Rejected.class, PlacementActor.place(fleet, "m", Set.of("p"), 16));
    assertEquals(ErrorCode.NO_READY_SLOT, r.error().code());
    assertEquals(true, r.error().message().contains("a: Loading"));
  }

  @Test
  void aRunWhoseTokensCannotFitAnySlotsContextIsRejectedAsTooLong() {
    long now = System.currentTimeMillis();
    var fleet = List.of(slot("a", "p", "m", "Ready", 4, now));
    var r = assertInstanceOf(PlacementActor.Rejected.class, PlacementActor.place(fleet, "m", Set.of("p"), 512));
    assertEquals(ErrorCode.CONTEXT_LENGTH_EXCEEDED, r.error().code());
    assertEquals(true, r.error().message().contains("a: 512 tokens"), r.error().message());
    assertInstanceOf(PlacementActor.Placed.class, PlacementActor.place(fleet, "m", Set.of("p"), 511));
  }

  @Test
  void statusesOlderThanTheTtlAreNotLive() {
    long now = System.currentTimeMillis();
    var map = new HashMap<String, SlotStatus>();
    map.put("fresh", slot("fresh", "p", "m", "Ready", 1, now));
    map.put("stale", slot("stale", "p", "m", "Ready", 4, now - 6_000));
    map.put("ancient", slot("ancient", "p", "m", "Ready", 4, now - 600_000));
    var live = PlacementActor.live(map, 5_000);
    assertEquals(List.of("fresh"), live.stream().map(SlotStatus::slotId).toList());
    assertEquals(Set.of("fresh", "stale"), map.keySet(), "very old statuses are forgotten");
  }
}
