package io.dalang.actors.audit;

import static io.dalang.actors.audit.AuditFixtures.chain;
import static io.dalang.actors.audit.AuditFixtures.roots;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit tables on a real H2 file database; tampering is done with SQL, as an intruder would. */
class AuditStoreTest {
  @TempDir Path dir;
  AuditStore store;
  List<AuditEvent> events = chain(10);

  @BeforeEach
  void tenEventsInBlocksOfFour() {
    store = AuditFixtures.store(dir);
    store.append(events.subList(0, 4), roots(events.subList(0, 4), 4));
    store.append(events.subList(4, 10), List.of(roots(events, 4).get(1)));
  }

  @Test
  void readsBackTheHeadTheBlockSizeAndTheOpenBlocksHashes() {
    assertEquals(AuditChain.headOf(events.get(9)), store.head());
    assertEquals(4, store.chainBlockSize().getAsInt());
    assertEquals(List.of(events.get(8).hash(), events.get(9).hash()), store.hashesFrom(9));
    assertEquals(events, store.query(AuditFilter.ALL));
    assertEquals(roots(events, 4), store.roots(10));
  }

  @Test
  void anEmptyStoreHasTheGenesisHeadAndVerifies() {
    var empty = AuditFixtures.store(dir.resolve("other"));
    assertEquals(AuditChain.Head.GENESIS, empty.head());
    assertTrue(empty.chainBlockSize().isEmpty());
    assertTrue(empty.verify(64).ok());
  }

  @Test
  void queriesFilterByTenantActorActionOutcomeAndTimeAndPage() {
    assertEquals(5, store.query(AuditFilter.ALL.tenant("acme")).size());
    assertEquals(List.of(4L, 10L), seqs(store.query(AuditFilter.ALL.action(AuditAction.KEY_ISSUE).tenant("globex"))));
    assertEquals(List.of(1L, 4L, 7L, 10L), seqs(store.query(AuditFilter.ALL.actor("bootstrap-admin"))));
    assertEquals(List.of(3L, 6L, 9L), seqs(store.query(AuditFilter.ALL.outcome(AuditOutcome.DENIED))));
    assertEquals(List.of(3L, 4L), seqs(store.query(AuditFilter.ALL.since(AuditFixtures.T0 + 2000).until(AuditFixtures.T0 + 4000))));
    assertEquals(List.of(5L, 6L), seqs(store.query(AuditFilter.ALL.page(4, 2))));
    assertTrue(store.query(AuditFilter.ALL.tenant("")).isEmpty());
  }

  @Test
  void anIntactStoreVerifiesWithItsHeadAndRoots() {
    VerifyResult r = store.verify(64);
    assertTrue(r.ok(), r.reason());
    assertEquals(10, r.count());
    assertEquals(events.get(9).hash(), r.headHash());
    assertEquals(2, r.roots());
  }

  @Test
  void oneFlippedByteOfAStoredCanonicalJsonIsReportedAtThatSeq() throws Exception {
    sql("UPDATE dalang_audit_event SET canonical_json = REPLACE(canonical_json, '\"tenant\":\"acme\"', '\"tenant\":\"acmf\"') WHERE seq = 7");
    VerifyResult r = store.verify(64);
    assertFalse(r.ok());
    assertEquals(7, r.firstBrokenSeq());
    assertEquals("the stored canonical_json differs from the event's columns", r.reason());
  }

  @Test
  void oneFlippedByteOfAColumnIsReportedAtThatSeq() throws Exception {
    sql("UPDATE dalang_audit_event SET tenant = 'acmf' WHERE seq = 5");
    VerifyResult r = store.verify(64);
    assertEquals(5, r.firstBrokenSeq());
    assertTrue(r.reason().startsWith("hash does not match"), r.reason());
  }

  @Test
  void aDeletedEventAndADeletedRootAreReported() throws Exception {
    sql("DELETE FROM dalang_audit_root WHERE block_no = 1");
    assertEquals(5, store.verify(64).firstBrokenSeq());
    sql("DELETE FROM dalang_audit_event WHERE seq = 3");
    VerifyResult r = store.verify(64);
    assertEquals(3, r.firstBrokenSeq());
    assertEquals("event 3 is missing (the next one found is seq 4)", r.reason());
  }

  @Test
  void aRowWhoseDetailsAreNoLongerJsonBreaksTheChainThere() throws Exception {
    sql("UPDATE dalang_audit_event SET details_json = '{oops' WHERE seq = 4");
    VerifyResult r = store.verify(64);
    assertEquals(4, r.firstBrokenSeq());
    assertTrue(r.reason().contains("details_json is not valid JSON"), r.reason());
    assertThrows(AuditStoreException.class, () -> store.query(AuditFilter.ALL));
  }

  @Test
  void aSecondEventWithATakenSeqIsRejectedAndNothingOfItsBatchIsKept() {
    var again = List.of(AuditChain.next(store.head(), 1, AuditFixtures.entry(1)), events.get(0));
    var e = assertThrows(AuditStoreException.class, () -> store.append(again, List.of()));
    assertTrue(e.getMessage().startsWith("cannot append audit events 11..1"), e.getMessage());
    assertEquals(10, store.head().seq());
  }

  @Test
  void retentionPrunesWholeOldBlocksAndTheRestVerifiesFromTheCheckpoint() {
    assertEquals(events.get(7).seq(), store.pruneCandidate(AuditFixtures.T0 + 9_000).orElseThrow().seq());
    assertEquals(4, store.pruneCandidate(AuditFixtures.T0 + 7_000).orElseThrow().seq());
    assertTrue(store.pruneCandidate(AuditFixtures.T0 + 3_000).isEmpty());

    var pruned = AuditFixtures.pruned(dir.resolve("pruned"));
    assertEquals(AuditChain.headOf(events.get(7)), pruned.checkpoint());
    assertEquals(List.of(9L, 10L, 11L), seqs(pruned.query(AuditFilter.ALL)));
    assertEquals(2, pruned.roots(11).size());
    VerifyResult r = pruned.verify(64);
    assertTrue(r.ok(), r.reason());
    assertEquals(8, r.prunedThroughSeq());
    assertEquals(3, r.count());
    assertEquals(11, r.headSeq());
  }

  @Test
  void eventsDeletedWithoutAnAttestingPruneEventAreReported() throws Exception {
    var pruned = AuditFixtures.pruned(dir.resolve("pruned"));
    try (var c = DriverManager.getConnection(pruned.url(), "dalang", ""); var st = c.createStatement()) {
      st.executeUpdate("DELETE FROM dalang_audit_event WHERE seq <= 10");
      st.executeUpdate("UPDATE dalang_audit_prune SET through_seq = 10, through_hash = '" + events.get(9).hash() + "'");
    }
    VerifyResult r = pruned.verify(64);
    assertFalse(r.ok());
    assertEquals(11, r.firstBrokenSeq());
    assertTrue(r.reason().contains("does not end a block of 4"), r.reason());
  }

  @Test
  void aDeletedCheckpointIsReported() throws Exception {
    var pruned = AuditFixtures.pruned(dir.resolve("pruned"));
    try (var c = DriverManager.getConnection(pruned.url(), "dalang", ""); var st = c.createStatement()) {
      st.executeUpdate("DELETE FROM dalang_audit_prune");
    }
    VerifyResult r = pruned.verify(64);
    assertEquals(1, r.firstBrokenSeq());
    assertEquals("events 1..8 are missing (the next one found is seq 9)", r.reason());
  }

  @Test
  void anUnreachableDatabaseIsATypedErrorNamingIt() {
    var nowhere = new AuditStore("jdbc:h2:tcp://127.0.0.1:1/nowhere", "u", "");
    var e = assertThrows(AuditStoreException.class, nowhere::head);
    assertTrue(e.getMessage().startsWith("cannot read the head of the audit chain in jdbc:h2:tcp://127.0.0.1:1/nowhere"), e.getMessage());
  }

  private static List<Long> seqs(List<AuditEvent> es) {
    return es.stream().map(AuditEvent::seq).toList();
  }

  private void sql(String statement) throws Exception {
    try (var c = DriverManager.getConnection(store.url(), "dalang", ""); var st = c.createStatement()) {
      assertEquals(1, st.executeUpdate(statement), statement);
    }
  }
}
