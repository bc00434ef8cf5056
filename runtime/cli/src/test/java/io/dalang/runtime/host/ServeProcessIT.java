package io.dalang.runtime.host;

import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.files.PrivateFiles;
import io.dalang.runtime.testing.ApiClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dalang serve} as its own process, as an operator runs it, against another local user's view of
 * the host: the only ports it listens on are its HTTP, gRPC and cluster ports (no H2 server), its data
 * dir is owner-only (and a looser one is tightened at start), SIGTERM in the middle of a stream stops it
 * with exit code 0 and no ERROR line, and the journal replays on the next start.
 */
class ServeProcessIT {
  static final String KEY = "host-" + Long.toHexString(System.nanoTime());
  static final String STREAM = """
      {"model": "dalang-demo", "prompt": "Once upon a time", "max_tokens": 400, "stream": true}""";

  @Test
  void servesOnlyItsOwnPortsKeepsItsDataPrivateAndStopsCleanlyOnSigterm(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    // A data dir as an older version left it: readable by everyone.
    Files.createDirectories(data.resolve("runs"));
    Files.writeString(data.resolve("runs").resolve("runs.jsonl"), "");
    for (Path p : List.of(data, data.resolve("runs"))) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(data.resolve("runs").resolve("runs.jsonl"), PosixFilePermissions.fromString("rw-r--r--"));

    int http = freePort();
    int grpc = freePort();
    int cluster = freePort();
    Process serve = serve(data, http, grpc, cluster, tmp.resolve("serve-1.log"));
    try {
      var api = new ApiClient(http, KEY);
      api.awaitReady(Duration.ofSeconds(90));
      assertEquals(Set.of(http, grpc, cluster), listeningPorts(serve.pid()), "no H2 TCP server, nothing but the node's own ports");

      var stream = api.postStream("/v1/completions", STREAM);
      assertEquals(200, stream.statusCode());
      InputStream body = stream.body();
      assertTrue(body.read(new byte[64]) > 0, "the stream has begun");
      assertOwnerOnly(data);

      long sent = System.nanoTime();
      serve.destroy(); // SIGTERM
      assertTrue(serve.waitFor(60, TimeUnit.SECONDS), "stopped within the drain timeout");
      long ms = (System.nanoTime() - sent) / 1_000_000;
      body.close();
      String log = Files.readString(tmp.resolve("serve-1.log"));
      assertEquals(0, serve.exitValue(), log);
      assertFalse(log.lines().anyMatch(l -> l.contains(" ERROR ")), log);
      assertTrue(log.contains("SIGTERM: stopping") && log.contains("ServeCommand - stopped"), log);
      assertTrue(log.contains("now owner-only"), "the loose data dir was tightened, and said so: " + log);
      System.out.printf("serve stopped %d ms after SIGTERM%n", ms);
    } finally {
      serve.destroyForcibly();
    }
    assertOwnerOnly(data);
    assertFalse(Files.exists(data.resolve("serve.url")), "no address left behind");

    // Stopped: another process reads the journal file read-only.
    var status = dalang("status", "--data-dir", data.toString());
    assertTrue(status.out().matches("(?s).*Tenant\\s+2 entities.*"), status.out() + status.err());

    Process again = serve(data, http, grpc, cluster, tmp.resolve("serve-2.log"));
    try {
      var api = new ApiClient(http, KEY);
      api.awaitReady(Duration.ofSeconds(90));
      var r = api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"x\", \"max_tokens\": 2}");
      assertEquals(200, r.statusCode(), r.body());
      assertTrue(Files.readString(tmp.resolve("serve-2.log")).contains("tenant 'demo' recovered from the journal"));
      again.destroy();
      assertTrue(again.waitFor(60, TimeUnit.SECONDS));
      assertEquals(0, again.exitValue(), Files.readString(tmp.resolve("serve-2.log")));
    } finally {
      again.destroyForcibly();
    }
  }

  /** Every folder under {@code data} 0700, every file 0600. */
  static void assertOwnerOnly(Path data) throws IOException {
    try (Stream<Path> all = Files.walk(data)) {
      for (Path p : all.toList()) {
        if (!Files.exists(p)) continue; // gone meanwhile
        var expected = Files.isDirectory(p) ? PrivateFiles.FOLDER : PrivateFiles.FILE;
        assertEquals(PosixFilePermissions.toString(expected), PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
      }
    }
  }

  /** The TCP ports process {@code pid} listens on, from /proc: its socket inodes matched with the LISTEN rows of tcp and tcp6. */
  static Set<Integer> listeningPorts(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) inodes.add(target.substring(8, target.length() - 1));
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    Set<Integer> ports = new HashSet<>();
    for (String table : List.of("tcp", "tcp6")) {
      for (String row : Files.readAllLines(Path.of("/proc", Long.toString(pid), "net", table)).stream().skip(1).toList()) {
        String[] f = row.strip().split("\\s+");
        if (f[3].equals("0A") && inodes.contains(f[9])) ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
      }
    }
    return ports;
  }

  private static Process serve(Path data, int http, int grpc, int cluster, Path log) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var pb = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"), "io.dalang.runtime.Main", "serve",
        "--http-port", Integer.toString(http), "--grpc-port", Integer.toString(grpc), "--cluster-port", Integer.toString(cluster),
        "--data-dir", data.toString());
    pb.environment().put("DALANG_DEMO_KEY", KEY);
    return pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
