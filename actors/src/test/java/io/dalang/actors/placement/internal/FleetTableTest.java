package io.dalang.actors.placement.internal;

import static io.dalang.actors.placement.Slots.slot;

import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.placement.Slots;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class FleetTableTest {

  @Test
  void onlyStructuralChangesRaiseTheVersion() {
    var f = new FleetTable();
    var a = slot("a", "p", "m", "Ready", 4);
    assertTrue(f.update(a), "a new slot");
    long v = f.version();
    assertFalse(f.update(Slots.load(a, 1, 7)));
    assertEquals(v, f.version());
    assertEquals(1, f.find("a").orElseThrow().slotsFree(), "the load is updated in place");
    assertTrue(f.update(Slots.withState(f.find("a").orElseThrow(), "Loading")));
    assertTrue(f.version() > v);
  }

  @Test
  void anOlderStatusThanTheCurrentOneIsIgnored() {
    var f = new FleetTable();
    var a = slot("a", "p", "m", "Ready", 4);
    f.update(Slots.load(a, 2, 0));
    assertFalse(f.update(a));
    assertEquals(2, f.find("a").orElseThrow().slotsFree());
  }

  @Test
  void slotsAreKeptInIdOrderAndIndexedByModel() {
    var f = new FleetTable();
    f.update(slot("c", "p", "m2", "Ready", 4));
    f.update(slot("a", "p", "m1", "Ready", 4));
    f.update(slot("b", "p", "m1", "Ready", 4));
    assertEquals(List.of("a", "b", "c"), f.all().stream().map(SlotStatus::slotId).toList());
    assertEquals(List.of("a", "b"), java.util.Arrays.stream(f.slotsOf("m1")).mapToObj(i -> f.get(i).slotId()).toList());
    assertEquals(0, f.slotsOf("none").length);
  }

  @Test
  void statusesOlderThanTheTtlExpireAndRaiseTheVersion() {
    long now = System.currentTimeMillis();
    var f = Slots.fleet(Slots.slot("fresh", "p", "m", "n1", "Ready", 4096, 4, 4, 0, now),
        Slots.slot("stale", "p", "m", "n1", "Ready", 4096, 4, 4, 0, now - 6_000));
    long v = f.version();
    assertTrue(f.expire(now, 5_000));
    assertEquals(List.of("fresh"), f.all().stream().map(SlotStatus::slotId).toList());
    assertTrue(f.version() > v);
    assertFalse(f.expire(now, 5_000), "nothing more to drop");
  }
}
