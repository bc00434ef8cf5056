package io.dalang.actors.audit;

import static io.dalang.actors.audit.AuditFixtures.T0;
import static io.dalang.actors.audit.AuditFixtures.chain;
import static io.dalang.actors.audit.AuditFixtures.roots;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.dalang.engine.Digests;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class AuditChainTest {

  @Test
  void theFirstEventLinksToTheGenesisAndIsHashedOverItsCanonicalJson() {
    AuditEvent e = AuditChain.next(AuditChain.Head.GENESIS, T0, AuditEntry.ok("acme", "bootstrap-admin", "key.issue", "key-1"));
    assertEquals(1, e.seq());
    assertEquals("0".repeat(64), e.prevHash());
    assertEquals("{\"action\":\"key.issue\",\"actor\":\"bootstrap-admin\",\"details\":{},\"outcome\":\"ok\",\"prev_hash\":\""
        + "0".repeat(64) + "\",\"reason\":\"\",\"seq\":1,\"target\":\"key-1\",\"tenant\":\"acme\",\"time_epoch_ms\":1735689600000}",
        e.canonicalJson());
    assertEquals(Digests.sha256(e.canonicalJson()), e.hash());
    AuditEvent second = AuditChain.next(AuditChain.headOf(e), T0 + 1, AuditEntry.ok("", "system", "audit.test", ""));
    assertEquals(2, second.seq());
    assertEquals(e.hash(), second.prevHash());
  }

  @Test
  void canonicalJsonEscapesOnlyQuotesBackslashesAndControlCharacters() {
    var entry = new AuditEntry("t\"1", "a\\b", "secret.read", "line\nbreak\ttab\u0001é😀/", AuditOutcome.FAILED, "",
        new TreeMap<>(java.util.Map.of("z", "1", "B", "2", "a", "3")));
    String json = AuditChain.next(AuditChain.Head.GENESIS, 5, entry).canonicalJson();
    assertTrue(json.contains("\"actor\":\"a\\\\b\""), json);
    assertTrue(json.contains("\"tenant\":\"t\\\"1\""), json);
    assertTrue(json.contains("\"target\":\"line\\nbreak\\ttab\\u0001é😀/\""), json);
    assertTrue(json.contains("\"details\":{\"B\":\"2\",\"a\":\"3\",\"z\":\"1\"}"), json);
  }

  @Test
  void canonicalJsonIsWhatASortingJsonMapperWritesForPlainText() throws Exception {
    // An outside verifier's JSON library, sorting keys and without whitespace, reproduces the form.
    var mapper = new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
    for (AuditEvent e : chain(6)) {
      var m = new TreeMap<String, Object>(e.canonicalMembers());
      assertEquals(mapper.writeValueAsString(m), e.canonicalJson());
    }
  }

  @Test
  void aMerkleRootHashesPairsOfRawHashesAndPromotesAnOddNode() throws Exception {
    List<String> h = chain(3).stream().map(AuditEvent::hash).toList();
    assertEquals(h.get(0), AuditChain.merkleRoot(h.subList(0, 1)));
    String ab = sha256(h.get(0), h.get(1));
    assertEquals(ab, AuditChain.merkleRoot(h.subList(0, 2)));
    assertEquals(sha256(ab, h.get(2)), AuditChain.merkleRoot(h));
  }

  @Test
  void anIntactChainVerifiesWithItsHeadCountAndRoots() {
    var events = chain(10);
    VerifyResult r = AuditChain.verify(events.iterator(), roots(events, 4).iterator(), 4);
    assertTrue(r.ok(), r.reason());
    assertEquals(10, r.count());
    assertEquals(10, r.headSeq());
    assertEquals(events.get(9).hash(), r.headHash());
    assertEquals(2, r.roots());
  }

  @Test
  void anEmptyChainVerifiesAtTheGenesis() {
    VerifyResult r = AuditChain.verify(List.<AuditEvent>of().iterator(), List.<BlockRoot>of().iterator(), 4);
    assertTrue(r.ok());
    assertEquals(0, r.count());
    assertEquals(AuditChain.GENESIS_HASH, r.headHash());
  }

  @Test
  void aChangedEventIsReportedAtItsSeq() {
    var events = new ArrayList<>(chain(10));
    events.set(4, AuditFixtures.withTenant(events.get(4), "evil"));
    VerifyResult r = AuditChain.verify(events.iterator(), roots(chain(10), 4).iterator(), 4);
    assertFalse(r.ok());
    assertEquals(5, r.firstBrokenSeq());
    assertTrue(r.reason().startsWith("hash does not match the event's content"), r.reason());
    assertEquals(4, r.count());
  }

  @Test
  void anEventRewrittenWithAFreshHashBreaksTheNextLink() {
    var events = new ArrayList<>(chain(10));
    events.set(4, AuditFixtures.withTenant(events.get(4), "evil").withComputedHash());
    VerifyResult r = AuditChain.verify(events.iterator(), List.<BlockRoot>of().iterator(), 100);
    assertEquals(6, r.firstBrokenSeq());
    assertTrue(r.reason().startsWith("prev_hash"), r.reason());
  }

  @Test
  void aMissingOrRepeatedEventIsReportedWhereItShouldBe() {
    var events = new ArrayList<>(chain(10));
    events.remove(6);
    VerifyResult missing = AuditChain.verify(events.iterator(), List.<BlockRoot>of().iterator(), 100);
    assertEquals(7, missing.firstBrokenSeq());
    assertEquals("event 7 is missing (the next one found is seq 8)", missing.reason());
    var repeated = new ArrayList<>(chain(10));
    repeated.add(3, repeated.get(2));
    assertEquals(4, AuditChain.verify(repeated.iterator(), List.<BlockRoot>of().iterator(), 100).firstBrokenSeq());
  }

  @Test
  void aWrongMissingOrSurplusRootIsReportedAtItsBlock() {
    var events = chain(10);
    var roots = new ArrayList<>(roots(events, 4));
    BlockRoot second = roots.get(1);
    roots.set(1, new BlockRoot(1, 5, 8, AuditChain.GENESIS_HASH));
    VerifyResult wrong = AuditChain.verify(events.iterator(), roots.iterator(), 4);
    assertEquals(5, wrong.firstBrokenSeq());
    assertTrue(wrong.reason().startsWith("Merkle root of block 1 (seq 5..8) does not match"), wrong.reason());

    VerifyResult missing = AuditChain.verify(events.iterator(), List.of(roots.get(0)).iterator(), 4);
    assertEquals(5, missing.firstBrokenSeq());
    assertTrue(missing.reason().contains("has no stored Merkle root"), missing.reason());

    var surplus = List.of(roots(events, 4).get(0), second, new BlockRoot(2, 9, 12, AuditChain.GENESIS_HASH));
    VerifyResult beyond = AuditChain.verify(events.iterator(), surplus.iterator(), 4);
    assertEquals(9, beyond.firstBrokenSeq());
    assertTrue(beyond.reason().contains("but the chain ends at seq 10"), beyond.reason());
  }

  @Test
  void theEarliestOfSeveralBreaksIsReported() {
    var events = new ArrayList<>(chain(10));
    events.set(8, AuditFixtures.withTenant(events.get(8), "evil"));
    var roots = new ArrayList<>(roots(chain(10), 4));
    roots.set(0, new BlockRoot(0, 1, 4, AuditChain.GENESIS_HASH));
    assertEquals(1, AuditChain.verify(events.iterator(), roots.iterator(), 4).firstBrokenSeq());
  }

  @Test
  void aPrunedChainVerifiesFromItsCheckpointOnlyWhenAnAuditPruneEventAttestsIt() {
    var events = new ArrayList<>(chain(8));
    var prune = AuditEntry.ok("", "system", AuditAction.AUDIT_PRUNE, "")
        .with(java.util.Map.of("through_seq", "4", "through_hash", events.get(3).hash()));
    events.add(AuditChain.next(AuditChain.headOf(events.get(7)), T0 + 9000, prune));
    var kept = events.subList(4, 9);
    var roots = roots(events, 4);
    var checkpoint = AuditChain.headOf(events.get(3));

    var v = new AuditChain.Verifier(4, checkpoint);
    roots.forEach(v::root);
    kept.forEach(v::event);
    VerifyResult ok = v.finish();
    assertTrue(ok.ok(), ok.reason());
    assertEquals(5, ok.count());
    assertEquals(1, ok.roots()); // block 0 was pruned: its root is kept but cannot be recomputed
    assertEquals(4, ok.prunedThroughSeq());

    var unattested = new AuditChain.Verifier(4, checkpoint);
    roots.forEach(unattested::root);
    kept.subList(0, 4).forEach(unattested::event);
    VerifyResult r = unattested.finish();
    assertEquals(5, r.firstBrokenSeq());
    assertTrue(r.reason().contains("no audit.prune event in the chain attests"), r.reason());

    var unpruned = new AuditChain.Verifier(4);
    roots.forEach(unpruned::root);
    events.forEach(unpruned::event);
    VerifyResult noCheckpoint = unpruned.finish();
    assertEquals(1, noCheckpoint.firstBrokenSeq());
    assertTrue(noCheckpoint.reason().contains("but the chain holds no checkpoint"), noCheckpoint.reason());
  }

  @Test
  void entriesRejectMalformedActionsAndCutOverlongText() {
    assertThrows(IllegalArgumentException.class, () -> AuditEntry.ok("t", "a", "Key Issue", ""));
    assertThrows(IllegalArgumentException.class, () -> AuditEntry.ok("t", "a", "issue", ""));
    assertThrows(IllegalArgumentException.class, () -> AuditEntry.ok("t", " ", "key.issue", ""));
    var long_ = AuditEntry.ok("t", "a", "key.issue", "x".repeat(10_000));
    assertEquals(AuditEntry.MAX_TEXT, long_.target().length());
    assertTrue(long_.target().endsWith("…[cut]"));
  }

  private static String sha256(String leftHex, String rightHex) throws Exception {
    var md = MessageDigest.getInstance("SHA-256");
    md.update(HexFormat.of().parseHex(leftHex));
    md.update(HexFormat.of().parseHex(rightHex));
    return HexFormat.of().formatHex(md.digest());
  }
}
