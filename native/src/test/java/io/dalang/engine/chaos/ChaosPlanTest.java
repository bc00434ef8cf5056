package io.dalang.engine.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChaosPlanTest {

  static ChaosPlan plan(long seed, Map<String, ?>... faults) {
    return ChaosPlan.parse(Map.of("seed", seed, "faults", List.of(faults)));
  }

  @Test
  void readsFaultsWithKebabOrSnakeCaseKeysAndDefaults() {
    var p = plan(7, Map.of("fault", "drop", "scope", "slot:demo-0"),
        Map.of("fault", "delay", "first_token_delay", "2 s", "token-delay", 5),
        Map.of("fault", "error", "code", "engine_unavailable", "at", "start", "count", 2));
    Fault drop = p.faults().get(0);
    assertEquals(Fault.Kind.DROP, drop.kind());
    assertEquals(1, drop.afterTokens(), "a drop comes after the first token unless told");
    assertTrue(drop.matches("demo-0", "demo"));
    assertFalse(drop.matches("demo-1", "demo"));
    assertEquals(2000, p.faults().get(1).firstTokenDelayMs());
    assertEquals(5, p.faults().get(1).tokenDelayMs());
    assertEquals(ErrorCode.ENGINE_UNAVAILABLE, p.faults().get(2).code());
    assertEquals(Fault.At.START, p.faults().get(2).at());
    assertTrue(p.faults().get(2).matches("any", "pool"), "scope defaults to all");
  }

  @Test
  void rejectsBadDefinitionsNamingTheField() {
    var e = assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "explode")));
    assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    assertEquals("faults[0].fault", e.toError().param());
    assertEquals("faults[0].after_tokens",
        assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "kill", "after_tokens", -1))).toError().param());
    assertEquals("faults[0].scope", assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "kill", "scope", "node:x"))).toError().param());
    assertEquals("faults[0].at", assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "drop", "at", "start"))).toError().param());
    assertEquals("faults[0].probability",
        assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "drop", "probability", 1.5))).toError().param());
    assertEquals("faults[0].colour", assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "drop", "colour", "red"))).toError().param());
    assertEquals("faults[0].first_token_delay", assertThrows(DalangException.class, () -> plan(0, Map.of("fault", "delay"))).toError().param());
    assertEquals("faults", assertThrows(DalangException.class, () -> ChaosPlan.parse(Map.of("seed", 1))).toError().param());
  }

  @Test
  void everyNthCountLimitedAndSeededDrawsAreDeterministic() {
    var chaos = Chaos.off();
    chaos.apply(plan(1, Map.of("fault", "drop", "every", 2, "count", 2)), "test");
    var armed = new ArrayList<Boolean>();
    for (int i = 0; i < 8; i++) armed.add(!chaos.draw(Fault.At.GENERATE, "s", "p").isEmpty());
    assertEquals(List.of(false, true, false, true, false, false, false, false), armed);

    assertEquals(draws(42), draws(42), "the same seed arms the same runs");
    assertTrue(draws(42).contains(true) && draws(42).contains(false));
    chaos.clear("test");
    assertTrue(chaos.draw(Fault.At.GENERATE, "s", "p").isEmpty(), "nothing is drawn while chaos is off");
  }

  static List<Boolean> draws(long seed) {
    var chaos = Chaos.off();
    chaos.apply(plan(seed, Map.of("fault", "error", "probability", 0.5, "scope", "pool:p")), "test");
    var out = new ArrayList<Boolean>();
    for (int i = 0; i < 32; i++) out.add(!chaos.draw(Fault.At.GENERATE, "s", "p").isEmpty());
    assertTrue(chaos.draw(Fault.At.GENERATE, "s", "other").isEmpty(), "another pool is out of scope");
    return out;
  }
}
