package io.dalang.runtime.sweep;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SweepPresetTest {

  @Test
  void theShippedPresetsLoadWithTheirExplicitSettings() {
    for (String name : List.of("logic_only", "refactor_heavy", "mixed")) {
      var p = SweepPreset.load(name);
      assertEquals(name, p.name());
      assertTrue(p.threads() >= 1 && p.maxTokens() >= 1 && p.repeats() >= 1 && p.warmupSteps() >= 0, name);
      assertTrue(SweepPreset.AFFINITY_POLICIES.contains(p.affinityPolicy()), name);
      assertTrue(p.prompts().size() >= 3, name);
    }
    assertNotEquals(SweepPreset.load("logic_only").promptsDigest(), SweepPreset.load("mixed").promptsDigest());
  }

  @Test
  void pinnedAffinityBindsTheEngineThreadsToTheFirstCores(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("pinned.conf");
    Files.writeString(f, "preset { seed = 1, threads = 3, affinity_policy = pinned, warmup_steps = 0, max_tokens = 8, repeats = 1,"
        + " prompts = [{ id = a, text = hi }] }");
    var p = SweepPreset.load(f.toString());
    assertEquals(List.of("--cpu-range", "0-2", "--cpu-strict", "1"), p.affinityArgs());
    assertEquals(List.of(), SweepPreset.load("mixed").affinityArgs());
  }

  @Test
  void aMalformedPresetIsRejectedNamingTheProblem(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("missing-seed.conf");
    Files.writeString(missing, "preset { threads = 1, affinity_policy = none, warmup_steps = 0, max_tokens = 8, repeats = 1, prompts = [{ id = a, text = hi }] }");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepPreset.load(missing.toString())).getMessage().contains("seed"));
    Path affinity = dir.resolve("affinity.conf");
    Files.writeString(affinity, "preset { seed = 1, threads = 1, affinity_policy = everywhere, warmup_steps = 0, max_tokens = 8, repeats = 1,"
        + " prompts = [{ id = a, text = hi }] }");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepPreset.load(affinity.toString())).getMessage().contains("affinity_policy"));
    Path dup = dir.resolve("dup.conf");
    Files.writeString(dup, "preset { seed = 1, threads = 1, affinity_policy = none, warmup_steps = 0, max_tokens = 8, repeats = 1,"
        + " prompts = [{ id = a, text = hi }, { id = a, text = again }] }");
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepPreset.load(dup.toString())).getMessage().contains("twice"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> SweepPreset.load("no_such_preset")).getMessage().contains("shipped"));
  }
}
