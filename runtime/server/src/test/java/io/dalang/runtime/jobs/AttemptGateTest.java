package io.dalang.runtime.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class AttemptGateTest {

  @Test
  void aFreedRunnerGoesToTheWaitingTenantsInTurnNotInArrivalOrder() {
    var gate = new AttemptGate(1);
    assertTrue(gate.acquire("hog").isDone());
    List<CompletableFuture<Void>> hog = new ArrayList<>();
    for (int i = 0; i < 3; i++) hog.add(gate.acquire("hog"));
    var small = gate.acquire("small");
    assertFalse(small.isDone());

    gate.release();
    assertTrue(hog.get(0).isDone(), "the hog was first in line");
    gate.release();
    assertTrue(small.isDone(), "then the other tenant, ahead of the hog's backlog");
    assertFalse(hog.get(1).isDone());
    gate.release();
    assertTrue(hog.get(1).isDone());
    assertEquals(1, gate.waiting());
  }

  @Test
  void anAbandonedWaiterNeverGetsARunner() {
    var gate = new AttemptGate(1);
    gate.acquire("a");
    var gone = gate.acquire("b");
    var next = gate.acquire("c");
    assertTrue(gate.abandon(gone));
    gate.release();
    assertFalse(gone.isDone());
    assertTrue(next.isDone());
    assertEquals(0, gate.waiting());
  }
}
