package io.dalang.runtime.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.engine.chaos.Chaos;
import io.dalang.engine.chaos.Fault;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class ChaosConfigTest {

  private static Chaos start(Config config) {
    return ChaosConfig.start(ChaosConfig.Settings.from(config), new SimpleMeterRegistry());
  }

  @Test
  void chaosIsOffByDefaultEvenWithFaultsListed() {
    var chaos = start(ConfigFactory.parseString("dalang.chaos.faults = [{ fault = drop }]").withFallback(ConfigFactory.load()));
    assertFalse(chaos.enabled());
    assertEquals(0, chaos.status().faults().size());
  }

  @Test
  void enabledChaosPutsTheConfiguredFaultsInForce() {
    var chaos = start(ConfigFactory.parseString("""
        dalang.chaos { enabled = true, seed = 3, faults = [
          { fault = kill, scope = "pool:demo", after-tokens = 5, count = 1 },
          { fault = delay, first-token-delay = 250 ms, probability = 0.5 } ] }""").withFallback(ConfigFactory.load()));
    assertTrue(chaos.enabled());
    var s = chaos.status();
    assertEquals(3, s.seed());
    assertEquals(Fault.Kind.KILL, s.faults().get(0).fault().kind());
    assertEquals(5, s.faults().get(0).fault().afterTokens());
    assertEquals(250, s.faults().get(1).fault().firstTokenDelayMs());
  }

  @Test
  void aBadFaultStopsTheNodeFromStartingAndSaysWhichKey() {
    var e = assertThrows(IllegalArgumentException.class, () -> start(ConfigFactory.parseString(
        "dalang.chaos.faults = [{ fault = meteor }]").withFallback(ConfigFactory.load())));
    assertTrue(e.getMessage().startsWith("dalang.chaos: 'faults[0].fault' must be one of [delay, error, drop, kill]"), e.getMessage());
  }
}
