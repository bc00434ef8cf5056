package io.dalang.actors.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints outside the database, on a real H2 store: an older chain gets anchored from its head on; a forged file is seen. */
class AuditAnchorTest {
  @TempDir Path dir;

  /** 10 events stored before anchoring, then 6 more written with checkpoints, in blocks of 4. */
  AuditAnchor anchoredAfterTen(AuditStore store) throws Exception {
    List<AuditEvent> all = AuditFixtures.chain(16);
    List<AuditEvent> before = all.subList(0, 10);
    List<AuditEvent> after = all.subList(10, 16);
    store.append(before, AuditFixtures.roots(before, 4));
    assertNull(AuditAnchor.existing(dir), "no key before the first anchoring start");
    var anchor = AuditAnchor.open(dir);
    anchor.start(store.head(), AuditFixtures.T0);
    List<BlockRoot> newRoots = AuditFixtures.roots(all, 4).stream().filter(r -> r.lastSeq() > 10).toList();
    store.append(after, newRoots);
    anchor.stored(after, newRoots);
    return anchor;
  }

  @Test
  void aChainFromBeforeAnchoringIsAnchoredFromItsHeadOnAndSaysSo() throws Exception {
    var store = AuditFixtures.store(dir);
    var anchor = anchoredAfterTen(store);
    var r = anchor.check(store);
    assertTrue(r.ok(), r.problems().toString());
    assertEquals(List.of("not anchored before 2025-01-01T00:00:00Z (seq 1..10 are checked by the hash chain only)"), r.notes());
    assertTrue(Files.exists(dir.resolve("audit-checkpoints").resolve("3.json")), "block 3 (seq 13..16) was completed after anchoring");
    assertFalse(Files.exists(dir.resolve("audit-checkpoints").resolve("1.json")), "block 1 was complete before it");
  }

  @Test
  void anEditedCheckpointIsForgedAndAnAnchorIsNeverRewritten() throws Exception {
    var store = AuditFixtures.store(dir);
    var anchor = anchoredAfterTen(store);
    Path cp = dir.resolve("audit-checkpoints").resolve("3.json");
    String original = Files.readString(cp);
    Files.writeString(cp, original.replace("\"count\":16", "\"count\":17"));
    var r = anchor.check(store);
    assertEquals(1, r.problems().size(), r.problems().toString());
    assertTrue(r.problems().get(0).startsWith("forged checkpoint: " + cp + " is not signed by audit.key"), r.problems().get(0));

    Files.copy(dir.resolve("audit-checkpoints").resolve("2.json"), cp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertEquals(List.of("forged checkpoint: " + cp + " holds the checkpoint of block 2"), anchor.check(store).problems(),
        "a signed checkpoint of another block in its place");
    Files.writeString(cp, original);
    var block3 = AuditFixtures.roots(AuditFixtures.chain(16), 4).get(3);
    anchor.stored(AuditFixtures.chain(16).subList(12, 16), List.of(new BlockRoot(3, 13, 16, "0".repeat(64))));
    assertEquals(original, Files.readString(cp), "an existing checkpoint is left as it is");
    assertEquals(block3.root(), AuditJson.MAPPER.readTree(original).get("root").asText());
  }
}
