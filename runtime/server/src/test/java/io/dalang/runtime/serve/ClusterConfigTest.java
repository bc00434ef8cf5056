package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.node.Device;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The configuration of cluster members: {@code dalang node} options, roles, and the shared journal's database. */
class ClusterConfigTest {
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
    assertEquals(List.of(new Device("cpu0", "cpu", 0, "cpu0", 2048, 2048, "")), Settings.Agent.devices(c));
  }

  @Test
  void serveIsAControlAndGpuNodeByDefault() {
    var c = DalangNode.config(ServeOptions.forDataDir(dir));
    assertEquals(List.of("control", "gpu"), c.getStringList("pekko.cluster.roles"));
    assertTrue(c.getStringList("pekko.cluster.seed-nodes").isEmpty());
  }

  @Test
  void aPostgresUrlSelectsThePostgresProfileAndDriver() throws Exception {
    var conf = dir.resolve("pg.conf");
    java.nio.file.Files.writeString(conf, "pekko-persistence-jdbc.shared-databases.slick.db.url = \"jdbc:postgresql://db:5432/dalang\"\n");
    var c = DalangNode.config(new ServeOptions(dir, null, null, null, conf, null, null));
    assertEquals("slick.jdbc.PostgresProfile$", c.getString("pekko-persistence-jdbc.shared-databases.slick.profile"));
    assertEquals("org.postgresql.Driver", c.getString("pekko-persistence-jdbc.shared-databases.slick.db.driver"));
    var h2 = DalangNode.config(ServeOptions.forDataDir(dir));
    assertEquals("slick.jdbc.H2Profile$", h2.getString("pekko-persistence-jdbc.shared-databases.slick.profile"));
    assertTrue(h2.getString("pekko-persistence-jdbc.shared-databases.slick.db.url").startsWith("jdbc:h2:file:"));
  }
}
