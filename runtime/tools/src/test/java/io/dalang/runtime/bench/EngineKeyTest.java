package io.dalang.runtime.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** {@code bench overhead}'s direct side finds the key Dalang gave its llama-server, in that child's environment. */
class EngineKeyTest {

  @Test
  void readsTheChildsKeyFromItsEnvironmentAndNothingWhereThereIsNone() throws Exception {
    var builder = new ProcessBuilder("sleep", "30");
    builder.environment().put("LLAMA_API_KEY", "k-0123456789abcdef");
    Process child = builder.start();
    try {
      assertEquals("k-0123456789abcdef", OverheadBench.engineKey(child.toHandle()));
      assertNull(OverheadBench.engineKey(ProcessHandle.current()), "this JVM has no such key");
      assertNull(OverheadBench.engineKey(null));
    } finally {
      child.destroyForcibly();
    }
  }
}
