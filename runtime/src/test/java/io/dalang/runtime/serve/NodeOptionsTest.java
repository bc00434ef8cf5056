package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.node.Device;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeOptionsTest {
  @TempDir Path dir;

  @Test
  void joinAddressesBecomeSeedNodesOfTheDalangSystem() {
    var o = new NodeOptions(List.of("10.0.0.1:25520", "ctl-2:25521"), null, null, null, null);
    assertEquals(List.of("pekko://dalang@10.0.0.1:25520", "pekko://dalang@ctl-2:25521"), o.seedNodes());
  }

  @Test
  void rejectsAJoinAddressWithoutAUsablePort() {
    assertThrows(IllegalArgumentException.class, () -> new NodeOptions(List.of("10.0.0.1"), null, null, null, null));
    assertThrows(IllegalArgumentException.class, () -> new NodeOptions(List.of("10.0.0.1:0"), null, null, null, null));
    assertThrows(IllegalArgumentException.class, () -> new NodeOptions(List.of(), null, null, null, null));
  }

  @Test
  void parsesDevicesAsIdKindMibAndOptionalIndex() {
    assertEquals(List.of(new Device("cpu0", "cpu", 0, "cpu0", 4096, 4096, ""), new Device("gpu1", "cuda", 1, "gpu1", 24576, 24576, "")),
        NodeOptions.parseDevices("cpu0:cpu:4096, gpu1:CUDA:24576:1"));
    assertThrows(IllegalArgumentException.class, () -> NodeOptions.parseDevices("cpu0:tpu:4096"));
    assertThrows(IllegalArgumentException.class, () -> NodeOptions.parseDevices("cpu0:cpu"));
    assertThrows(IllegalArgumentException.class, () -> NodeOptions.parseDevices("cpu0:cpu:lots"));
  }

  @Test
  void aNodeIsAGpuNodeJoiningItsSeedsWithTheGivenDevices() {
    var c = DalangNode.config(new NodeOptions(List.of("127.0.0.1:25520"), 0, dir, "cpu0:cpu:2048", null));
    assertEquals(List.of("gpu"), c.getStringList("pekko.cluster.roles"));
    assertEquals(List.of("pekko://dalang@127.0.0.1:25520"), c.getStringList("pekko.cluster.seed-nodes"));
    assertEquals(List.of(new Device("cpu0", "cpu", 0, "cpu0", 2048, 2048, "")), DalangNode.configuredDevices(c));
  }

  @Test
  void serveIsAControlAndGpuNodeByDefault() {
    var c = DalangNode.config(ServeOptions.forDataDir(dir));
    assertEquals(List.of("control", "gpu"), c.getStringList("pekko.cluster.roles"));
    assertTrue(c.getStringList("pekko.cluster.seed-nodes").isEmpty());
  }
}
