package io.dalang.runtime.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.files.PrivateFiles;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Pekko cluster members over loopback with {@link ClusterTls}'s transport: a node with a certificate
 * of the cluster's CA joins; one with a certificate of another CA, or none (plain TCP), never becomes a
 * member, and the cluster goes on admitting good nodes.
 */
class ClusterTlsTest {
  @TempDir Path dir;
  final List<ActorSystem<Void>> systems = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (var s : systems) s.terminate();
    for (var s : systems) s.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void aNodeWithACertificateOfTheClusterCaJoins() throws Exception {
    var seed = seed();
    ClusterTls.issue(dir.resolve("seed").resolve("cluster-tls"), dir.resolve("good-tls"), "gpu-1");
    var good = joiner("good", seed, Map.of("dalang.cluster.tls-dir", dir.resolve("good-tls").toString()));
    await(() -> upMembers(seed) == 2 && Cluster.get(good).selfMember().status() == MemberStatus.up(), Duration.ofSeconds(30),
        "the node with the cluster's certificate joins");
  }

  @Test
  void aNodeWithACertificateOfAnotherCaNeverBecomesAMemberAndTheClusterGoesOn() throws Exception {
    var seed = seed();
    ClusterTls.createAuthority(dir.resolve("rogue-tls"), "rogue"); // a self-made CA and a certificate it signed
    var rogue = joiner("rogue", seed, Map.of("dalang.cluster.tls-dir", dir.resolve("rogue-tls").toString()));
    var plain = joiner("plain", seed, Map.of("dalang.cluster.tls", false));
    long end = System.nanoTime() + Duration.ofSeconds(12).toNanos();
    while (System.nanoTime() < end) {
      assertEquals(1, members(seed), "only the seed is a member");
      assertFalse(Cluster.get(rogue).selfMember().status() == MemberStatus.up(), "the rogue node is not Up");
      assertFalse(Cluster.get(plain).selfMember().status() == MemberStatus.up(), "the plain-TCP node is not Up");
      Thread.sleep(200);
    }
    ClusterTls.issue(dir.resolve("seed").resolve("cluster-tls"), dir.resolve("good-tls"), "gpu-1");
    joiner("good", seed, Map.of("dalang.cluster.tls-dir", dir.resolve("good-tls").toString()));
    await(() -> upMembers(seed) == 2, Duration.ofSeconds(30), "a good node still joins after the rogue attempts");
  }

  @Test
  void keysAreOwnerOnlyAndTheCaKeyStaysWithTheControlNode() throws Exception {
    Path ca = dir.resolve("ca");
    ClusterTls.createAuthority(ca, "control");
    ClusterTls.issue(ca, dir.resolve("node"), "gpu-1");
    for (Path key : List.of(ca.resolve(ClusterTls.CA_KEY), ca.resolve(ClusterTls.KEY), dir.resolve("node").resolve(ClusterTls.KEY))) {
      assertEquals(PrivateFiles.FILE, Files.getPosixFilePermissions(key), key.toString());
    }
    assertEquals(PrivateFiles.FOLDER, Files.getPosixFilePermissions(dir.resolve("node")));
    assertFalse(Files.exists(dir.resolve("node").resolve(ClusterTls.CA_KEY)), "a joining node never gets the CA's key");
    var nodeCert = Certificates.readCertificates(dir.resolve("node").resolve(ClusterTls.CERT)).get(0);
    nodeCert.verify(Certificates.readCertificates(ca.resolve(ClusterTls.CA_CERT)).get(0).getPublicKey());
    assertTrue(nodeCert.getSubjectX500Principal().getName().contains("CN=gpu-1"));
    assertThrows(IllegalArgumentException.class, () -> ClusterTls.issue(ca, dir.resolve("node"), "gpu-1"), "never overwrites");
    assertThrows(IllegalArgumentException.class, () -> ClusterTls.issue(dir.resolve("node"), dir.resolve("x"), "gpu-2"),
        "a node's folder is no CA");
  }

  @Test
  void aJoiningNodeWithoutACertificateFailsToStartNamingTheCommand() {
    var e = assertThrows(IllegalStateException.class, () -> apply(config("n", Map.of()), false));
    assertTrue(e.getMessage().contains("dalang cluster certs issue"), e.getMessage());
  }

  // Members

  private ActorSystem<Void> seed() throws Exception {
    var s = start("seed", Map.of(), true);
    var cluster = Cluster.get(s);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    await(() -> upMembers(s) == 1, Duration.ofSeconds(30), "the seed is Up");
    return s;
  }

  private ActorSystem<Void> joiner(String name, ActorSystem<Void> seed, Map<String, Object> settings) throws Exception {
    var m = new java.util.HashMap<String, Object>(settings);
    m.put("pekko.cluster.seed-nodes", List.of(Cluster.get(seed).selfMember().address().toString()));
    return start(name, m, false);
  }

  private static com.typesafe.config.Config apply(com.typesafe.config.Config c, boolean formsCluster) throws java.io.IOException {
    return ClusterTls.apply(c, ClusterTls.Settings.from(c), formsCluster);
  }

  private ActorSystem<Void> start(String name, Map<String, Object> settings, boolean formsCluster) throws Exception {
    var s = ActorSystem.<Void>create(Behaviors.empty(), "dalang", apply(config(name, settings), formsCluster));
    systems.add(s);
    return s;
  }

  private Config config(String name, Map<String, Object> settings) {
    var m = new java.util.HashMap<String, Object>(Map.of(
        "dalang.data-dir", dir.resolve(name).toString(),
        "pekko.remote.artery.canonical.hostname", "127.0.0.1",
        "pekko.remote.artery.canonical.port", freePort(),
        "pekko.cluster.roles", List.of(),
        "pekko.cluster.jmx.multi-mbeans-in-same-jvm", true,
        "pekko.coordinated-shutdown.terminate-actor-system", true));
    m.putAll(settings);
    return ConfigFactory.parseMap(m).withFallback(ConfigFactory.load()).resolve();
  }

  private static long members(ActorSystem<?> s) {
    long n = 0;
    for (var m : Cluster.get(s).state().getMembers()) n++;
    return n;
  }

  private static long upMembers(ActorSystem<?> s) {
    long n = 0;
    for (var m : Cluster.get(s).state().getMembers()) if (m.status() == MemberStatus.up()) n++;
    return n;
  }

  private static void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) throw new AssertionError(what + ": not within " + timeout);
      Thread.sleep(100);
    }
  }

  private static int freePort() {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
