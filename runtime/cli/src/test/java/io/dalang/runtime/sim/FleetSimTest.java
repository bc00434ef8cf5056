package io.dalang.runtime.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.runtime.testing.DalangCli;
import org.junit.jupiter.api.Test;

class FleetSimTest {

  @Test
  void registersEverySimulatedNodeAndPlacesReplicasUntilTheFleetIsFull() throws Exception {
    // 20 nodes x 2 GPUs; every fifth node has 22,000 MiB free per GPU (too small for a 20,000 MiB replica twice).
    var run = DalangCli.dalang("sim", "fleet", "--nodes", "20", "--gpus-per-node", "2", "--replicas", "200", "--json", "--verbose");
    assertEquals(0, run.code(), run.err());
    var out = new ObjectMapper().readTree(run.out().lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
    assertEquals(20, out.get("nodes").asInt());
    assertTrue(out.get("registrations_per_second").asDouble() > 0);
    assertTrue(out.get("heap_per_node_bytes").asLong() >= 0);
    // H100-class GPUs (80,000 MiB free) take 4 replicas of 20,000 MiB, A10-class (22,000 MiB) one:
    // 16 nodes x 2 x 4 + 4 nodes x 2 x 1 = 136; the rest get the typed no_feasible_slot answer.
    assertEquals(136, out.get("placed").asInt());
  }
}
