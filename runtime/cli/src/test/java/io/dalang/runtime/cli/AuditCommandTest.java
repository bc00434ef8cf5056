package io.dalang.runtime.cli;

import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.audit.AuditAction;
import io.dalang.actors.audit.AuditChain;
import io.dalang.actors.audit.AuditEntry;
import io.dalang.actors.audit.AuditEvent;
import io.dalang.actors.audit.AuditStore;
import io.dalang.actors.audit.BlockRoot;
import io.dalang.runtime.testing.DalangCli.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dalang audit ...} run in-process, as {@code Main} registers it, against a data dir's H2 database. */
class AuditCommandTest {
  @TempDir Path data;
  String url;
  String head;

  /** 70 events in the data dir's database, as the writer stores them with the shipped block size of 64. */
  @BeforeEach
  void aLedgerOfSeventyEvents() {
    url = "jdbc:h2:file:" + data.toAbsolutePath().resolve("db").resolve("dalang") + ";AUTO_SERVER=TRUE";
    var store = new AuditStore(url, "dalang", "");
    store.createTablesIfMissing();
    var events = new ArrayList<AuditEvent>();
    var h = AuditChain.Head.GENESIS;
    for (int i = 0; i < 70; i++) {
      var entry = i % 5 == 4
          ? AuditEntry.denied("acme", "key-" + i, AuditAction.ACCESS_DENIED, "POST /v1/admin/keys", "not an admin, \"really\"")
          : AuditEntry.ok(i % 2 == 0 ? "acme" : "globex", "bootstrap-admin", AuditAction.KEY_ISSUE, "key-" + i);
      AuditEvent e = AuditChain.next(h, 1_735_689_600_000L + i * 60_000L, entry);
      events.add(e);
      h = AuditChain.headOf(e);
    }
    BlockRoot root = AuditChain.blockRoot(0, 64, events.subList(0, 64).stream().map(AuditEvent::hash).toList());
    store.append(events, List.of(root));
    head = h.hash();
  }

  @Test
  void verifyReportsAnIntactChainWithItsHeadAndCount() {
    Run r = dalang("audit", "verify", "--data-dir", data.toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("OK: audit chain intact: 70 events, 1 Merkle root\nhead: seq 70 hash " + head + "\nnot anchored: " + data
        + " has no audit.key (no node of this version has served it); only the hash chain was checked\n", r.out());
  }

  @Test
  void verifyFindsOneFlippedByteOfAStoredEventAndExitsOne() throws Exception {
    try (var c = DriverManager.getConnection(url, "dalang", ""); var st = c.createStatement()) {
      st.executeUpdate("UPDATE dalang_audit_event SET canonical_json = REPLACE(canonical_json, 'key-41', 'key-42') WHERE seq = 42");
    }
    Run r = dalang("audit", "verify", "--data-dir", data.toString());
    assertEquals(1, r.code());
    assertTrue(r.out().startsWith("BROKEN: audit chain at seq 42: the stored canonical_json differs from the event's columns\n"
        + "intact before it: 41 events, 0 Merkle roots (up to seq 41 hash "), r.out());
  }

  @Test
  void anExportVerifiesOnItsOwnAndOneFlippedByteInItFailsAtItsSeq() throws Exception {
    Path file = data.resolve("audit.jsonl");
    Run export = dalang("audit", "export", "--data-dir", data.toString(), "--format", "jsonl", "--out", file.toString());
    assertEquals(0, export.code(), export.err());
    assertTrue(export.err().startsWith("exported 70 events and 1 Merkle root (the whole chain; chain head seq 70 hash " + head), export.err());

    Run ok = dalang("audit", "verify", "--file", file.toString());
    assertEquals(0, ok.code(), ok.err());
    assertEquals("OK: " + file + " intact: 70 events, 1 Merkle root\nhead: seq 70 hash " + head + "\n", ok.out());

    byte[] bytes = Files.readAllBytes(file);
    String text = new String(bytes, StandardCharsets.UTF_8);
    int at = text.indexOf("\"target\":\"key-17\"") + "\"target\":\"key-1".length();
    bytes[at] ^= 0x01; // '7' -> '6'
    Files.write(file, bytes);
    Run broken = dalang("audit", "verify", "--file", file.toString());
    assertEquals(1, broken.code());
    assertTrue(broken.out().startsWith("BROKEN: " + file + " at seq 18: hash does not match the event's content"), broken.out());
  }

  @Test
  void aFilteredExportSaysSoAndVerifiesByHashesOnly() throws Exception {
    Path file = data.resolve("denied.jsonl");
    Run export = dalang("audit", "export", "--data-dir", data.toString(), "--outcome", "denied", "--tenant", "acme",
        "--since", "2025-01-01", "--until", "2025-01-01T01:00:00Z", "--out", file.toString());
    assertEquals(0, export.code(), export.err());
    assertTrue(export.err().startsWith("exported 12 events and 0 Merkle roots (filtered by tenant=acme, outcome=denied, "
        + "since_epoch_ms=1735689600000, until_epoch_ms=1735693200000: hashes verifiable, links not;"), export.err());
    Run r = dalang("audit", "verify", "--file", file.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("OK (filtered export): " + file + ": 12 event hashes checked; links and Merkle roots not checked"), r.out());
  }

  @Test
  void csvGoesToStandardOutputWithRfc4180Quoting() {
    Run r = dalang("audit", "export", "--data-dir", data.toString(), "--format", "csv", "--action", "access.denied");
    assertEquals(0, r.code(), r.err());
    String[] rows = r.out().split("\r\n");
    assertEquals(1 + 14, rows.length);
    assertTrue(rows[0].startsWith("type,seq,time,time_epoch_ms,tenant,actor,action,target,outcome,reason,details,prev_hash,hash"));
    assertTrue(rows[1].startsWith("event,5,2025-01-01T00:04:00Z,1735689840000,acme,key-4,access.denied,POST /v1/admin/keys,denied,"
        + "\"not an admin, \"\"really\"\"\",{},"), rows[1]);
  }

  @Test
  void aChainPrunedByRetentionVerifiesFromItsCheckpointInTheStoreAndInAnExport() throws Exception {
    var store = new AuditStore(url, "dalang", "");
    var through = store.query(io.dalang.actors.audit.AuditFilter.ALL.page(63, 1)).get(0);
    var prune = AuditChain.next(new AuditChain.Head(70, head), 1_735_700_000_000L,
        AuditEntry.ok("", "system", AuditAction.AUDIT_PRUNE, "").with(java.util.Map.of("through_seq", "64", "through_hash", through.hash())));
    store.appendAndPrune(List.of(prune), List.of(), AuditChain.headOf(through));

    Run r = dalang("audit", "verify", "--data-dir", data.toString());
    assertEquals(0, r.code(), r.out());
    assertEquals("OK: audit chain intact: 7 events, 0 Merkle roots\nhead: seq 71 hash " + prune.hash() + "\n"
        + "pruned: seq 1..64 by retention; the rest verified from that checkpoint, which the chain's latest audit.prune event attests\n"
        + "not anchored: " + data + " has no audit.key (no node of this version has served it); only the hash chain was checked\n", r.out());
    Path file = data.resolve("pruned.jsonl");
    assertEquals(0, dalang("audit", "export", "--data-dir", data.toString(), "--out", file.toString()).code());
    String chainLines = r.out().substring(0, r.out().indexOf("not anchored"));
    assertEquals(chainLines.replace("audit chain", file.toString()), dalang("audit", "verify", "--file", file.toString()).out());
  }

  @Test
  void userMistakesExitTwoWithAMessageAndNoStackTrace() {
    Run noDb = dalang("audit", "verify", "--data-dir", data.resolve("nothing").toString());
    assertEquals(2, noDb.code());
    assertTrue(noDb.err().contains("holds no Dalang database (no db/ folder)"), noDb.err());

    Run badTime = dalang("audit", "export", "--data-dir", data.toString(), "--since", "yesterday");
    assertEquals(2, badTime.code());
    assertTrue(badTime.err().contains("'yesterday' is not an ISO-8601 time"), badTime.err());

    Run badOutcome = dalang("audit", "export", "--data-dir", data.toString(), "--outcome", "maybe");
    assertEquals(2, badOutcome.code());
    assertTrue(badOutcome.err().contains("unknown audit outcome 'maybe'; expected one of ok, denied, failed"), badOutcome.err());

    Run both = dalang("audit", "verify", "--file", "x.jsonl", "--data-dir", data.toString());
    assertEquals(2, both.code());

    Run notAnExport = dalang("audit", "verify", "--file", data.resolve("db").resolve("dalang.mv.db").toString());
    assertEquals(2, notAnExport.code());
    assertTrue(notAnExport.err().contains("not a Dalang audit export"), notAnExport.err());

    for (Run r : List.of(noDb, badTime, badOutcome, both, notAnExport)) assertFalse(r.err().contains("\tat "), r.err());
  }
}
