package io.dalang.engine.provision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.engine.Digests;
import io.dalang.testing.TestModels;
import java.nio.file.Files;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

class EngineProvisionerTest {

  @Test
  void aSecondEnsureWithTheSameInputsIsACacheHitOfTheRecordedBinary() throws Exception {
    EngineEntry first = TestModels.llamaServer();
    var messages = new ArrayList<String>();
    var p = new EngineProvisioner(EngineProvisioner.defaultCacheRoot(), messages::add);
    long t0 = System.nanoTime();
    EngineEntry again = p.ensureLlamaServer(EngineSource.DEFAULT);
    System.out.printf("llama-server cache hit took %.0f ms%n", (System.nanoTime() - t0) / 1e6);
    assertEquals(first, again);
    assertTrue(messages.stream().anyMatch(m -> m.contains("cache hit")), messages.toString());
    var bin = p.binary(again, "llama-server");
    assertTrue(Files.isExecutable(bin));
    assertEquals(again.binarySha256(), Digests.sha256(bin));
    assertTrue(Files.isExecutable(p.binary(again, "llama-quantize")));
    assertTrue(again.version().contains("de3ff81"), again.version());
    assertEquals(EngineProvisioner.FLAGS, again.flags());
    assertTrue(again.buildRef().startsWith("npm:node-llama-cpp@3.22.1"));
  }
}
