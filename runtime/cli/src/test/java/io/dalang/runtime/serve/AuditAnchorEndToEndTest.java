package io.dalang.runtime.serve;

import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.audit.AuditChain;
import io.dalang.actors.audit.AuditEntry;
import io.dalang.actors.audit.AuditEvent;
import io.dalang.actors.audit.AuditFilter;
import io.dalang.actors.audit.AuditOutcome;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.audit.BlockRoot;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.runtime.testing.DalangCli.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit chain is anchored outside the database: a real node writes its signed checkpoints, then,
 * with the node stopped, the journal is changed through JDBC the way someone with the database but
 * without {@code audit.key} could, and {@code dalang audit verify} must say so.
 */
class AuditAnchorEndToEndTest {
  @TempDir static Path data;
  static Path conf;
  static Path served;

  /** A node with blocks of 4 events that stored at least 14 events, then stopped. */
  @BeforeAll
  static void serveAndStop() throws Exception {
    conf = data.resolve("small-blocks.conf");
    Files.writeString(conf, "dalang.audit.block-size = 4\ndalang.demo.enabled = false\n");
    served = data.resolve("served");
    try (var node = DalangNode.start(new ServeOptions(served, 0, null, 0, conf, null, null), System.out)) {
      var admin = new ApiClient(node.httpPort(), Files.readString(served.resolve("admin.key")).strip());
      for (int i = 0; i < 13; i++) {
        assertEquals(201, admin.post("/admin/v1/tenants", "{\"id\": \"t" + i + "\", \"display_name\": \"T" + i + "\"}").statusCode());
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (ApiClient.json(admin.get("/admin/v1/audit/verify").body()).path("count").asLong() < 14) {
        assertTrue(System.nanoTime() < deadline, "the writer did not store the events");
        Thread.sleep(200);
      }
    }
  }

  /** A copy of the stopped node's data dir, to tamper with. */
  static Path copy(String name) throws Exception {
    Path to = data.resolve(name);
    try (var paths = Files.walk(served)) {
      for (Path p : paths.toList()) {
        Path t = to.resolve(served.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          try {
            Files.copy(p, t, StandardCopyOption.COPY_ATTRIBUTES);
          } catch (java.nio.file.NoSuchFileException gone) {
            // serve.url: the stopped node removes it on its way out, maybe while this walk lists it
          }
        }
      }
    }
    return to;
  }

  static Run verify(Path dir) {
    return dalang("audit", "verify", "--data-dir", dir.toString(), "--config", conf.toString());
  }

  static AuditStore store(Path dir) throws Exception {
    String password = Files.readString(EmbeddedJournal.passwordFile(dir), StandardCharsets.US_ASCII).strip();
    return new AuditStore(EmbeddedJournal.url(dir), "dalang", password);
  }

  static void sql(Path dir, String... statements) throws Exception {
    String password = Files.readString(EmbeddedJournal.passwordFile(dir), StandardCharsets.US_ASCII).strip();
    try (var c = DriverManager.getConnection(EmbeddedJournal.url(dir), "dalang", password); var st = c.createStatement()) {
      for (String s : statements) st.executeUpdate(s);
    }
  }

  @Test
  void anUntouchedChainVerifiesAgainstItsCheckpointsWhichArePrivate() throws Exception {
    Run r = verify(served);
    assertEquals(0, r.code(), r.out() + r.err());
    assertTrue(r.out().contains("anchored: the chain matches its signed checkpoints"), r.out());
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(served.resolve("audit.key"))));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(served.resolve("audit-checkpoints"))));
    try (var files = Files.list(served.resolve("audit-checkpoints"))) {
      for (Path f : files.toList()) assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)), f.toString());
    }
    assertTrue(Files.exists(served.resolve("audit-checkpoints").resolve("2.json")), "a checkpoint per full block");
  }

  @Test
  void deletingTheNewestEventsWhileStoppedIsATruncatedTail() throws Exception {
    Path dir = copy("truncated");
    long head = store(dir).head().seq();
    // The hash chain alone cannot see it: the events and the roots of their blocks go together.
    sql(dir, "DELETE FROM dalang_audit_event WHERE seq > " + (head - 6), "DELETE FROM dalang_audit_root WHERE last_seq > " + (head - 6));
    Run r = verify(dir);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().startsWith("OK: audit chain intact"), r.out());
    assertTrue(r.out().contains("BROKEN: truncated tail: "), r.out());
  }

  @Test
  void aRewrittenChainWithRecomputedHashesIsAMacMismatch() throws Exception {
    Path dir = copy("rewritten");
    var store = store(dir);
    List<AuditEvent> events = store.query(AuditFilter.ALL);
    int blockSize = 4;
    // From seq 3 on, as someone would who changes one detail and recomputes every later hash and root.
    var head = AuditChain.headOf(events.get(1));
    var rewritten = new ArrayList<AuditEvent>();
    var roots = new ArrayList<BlockRoot>();
    var block = new ArrayList<String>(List.of(events.get(0).hash(), events.get(1).hash()));
    for (AuditEvent e : events.subList(2, events.size())) {
      var details = new TreeMap<>(e.details());
      if (e.seq() == 3) details.put("display_name", "=cmd|' /C calc'!A0");
      var next = AuditChain.next(head, e.timeEpochMs(), new AuditEntry(e.tenant(), e.actor(), e.action(), e.target(),
          AuditOutcome.parse(e.outcome()), e.reason(), details));
      rewritten.add(next);
      head = AuditChain.headOf(next);
      block.add(next.hash());
      if (AuditChain.endsBlock(next.seq(), blockSize)) {
        roots.add(AuditChain.blockRoot(AuditChain.blockOf(next.seq(), blockSize), blockSize, block));
        block = new ArrayList<>();
      }
    }
    sql(dir, "DELETE FROM dalang_audit_event WHERE seq >= 3", "DELETE FROM dalang_audit_root");
    store.append(rewritten, roots);
    Run r = verify(dir);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().startsWith("OK: audit chain intact"), "the rewrite is consistent as a hash chain: " + r.out());
    assertTrue(r.out().contains("BROKEN: rewritten chain: block 0 as stored"), r.out());
    assertTrue(r.out().contains("MAC mismatch"), r.out());
  }

  @Test
  void aMissingCheckpointIsReported() throws Exception {
    Path dir = copy("missing");
    Files.delete(dir.resolve("audit-checkpoints").resolve("1.json"));
    Run r = verify(dir);
    assertEquals(1, r.code(), r.out());
    assertTrue(r.out().contains("BROKEN: missing checkpoint: block 1 (seq 5..8)"), r.out());
  }

  @Test
  void aDataDirFromBeforeAnchoringStillVerifies() throws Exception {
    Path dir = copy("older");
    try (var files = Files.list(dir.resolve("audit-checkpoints"))) {
      for (Path f : files.toList()) Files.delete(f);
    }
    Files.delete(dir.resolve("audit-checkpoints"));
    Files.delete(dir.resolve("audit.key"));
    Run r = verify(dir);
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("not anchored: "), r.out());
    assertFalse(r.out().contains("BROKEN"), r.out());
  }
}
