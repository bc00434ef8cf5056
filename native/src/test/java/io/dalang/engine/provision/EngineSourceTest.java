package io.dalang.engine.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EngineSourceTest {

  @Test
  void parsesTheThreeSourceForms() {
    assertEquals(new EngineSource.Npm("node-llama-cpp", "3.22.1"), EngineSource.parse("npm:node-llama-cpp@3.22.1"));
    assertEquals(new EngineSource.Npm("@scope/pkg", "1.0.0"), EngineSource.parse("npm:@scope/pkg@1.0.0"));
    assertEquals(new EngineSource.LocalPath(Path.of("/src/llama.cpp")), EngineSource.parse("path:/src/llama.cpp"));
    assertEquals(new EngineSource.Git("https://example.org/llama.cpp.git", "b4916"), EngineSource.parse("git:https://example.org/llama.cpp.git#b4916"));
    assertEquals("npm:node-llama-cpp@3.22.1", EngineSource.DEFAULT.spec());
  }

  @Test
  void rejectsMalformedSources() {
    assertThrows(IllegalArgumentException.class, () -> EngineSource.parse("npm:node-llama-cpp"));
    assertThrows(IllegalArgumentException.class, () -> EngineSource.parse("git:https://example.org/x.git"));
    assertThrows(IllegalArgumentException.class, () -> EngineSource.parse("ftp://x"));
  }
}
