package io.dalang.actors.audit;

import static io.dalang.actors.audit.AuditFixtures.chain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditExportTest {
  @TempDir Path dir;
  AuditStore store;
  List<AuditEvent> events = chain(10);

  @BeforeEach
  void tenEventsInBlocksOfFour() {
    store = AuditFixtures.storeWith(dir, events, 4);
  }

  @Test
  void aWholeChainExportHoldsAHeaderEveryEventAndEachRootAfterItsBlock() throws Exception {
    List<String> lines = export(AuditFilter.ALL).lines().toList();
    assertEquals(1 + 10 + 2, lines.size());
    assertTrue(lines.get(0).startsWith("{\"block_size\":4,\"criteria\":{},\"exported_at_epoch_ms\":42,\"filtered\":false,"
        + "\"format\":\"dalang-audit/1\",\"head_hash\":\"" + events.get(9).hash() + "\",\"head_seq\":10,"
        + "\"pruned_through_hash\":\"" + AuditChain.GENESIS_HASH + "\",\"pruned_through_seq\":0,\"type\":\"header\"}"), lines.get(0));
    assertTrue(lines.get(5).startsWith("{\"block\":0,\"first_seq\":1,\"last_seq\":4,\"root\":"), lines.get(5));
    assertTrue(lines.get(10).startsWith("{\"block\":1,"), lines.get(10));
    // An event line minus "hash" and "type" is the event's canonical JSON.
    TreeMap<String, Object> line = AuditJson.MAPPER.readValue(lines.get(1), new com.fasterxml.jackson.core.type.TypeReference<>() {});
    line.remove("hash");
    line.remove("type");
    assertEquals(events.get(0).canonicalJson(), AuditJson.MAPPER.writeValueAsString(line));
  }

  @Test
  void anUntouchedExportVerifiesOnItsOwn() throws Exception {
    VerifyResult r = verify(export(AuditFilter.ALL));
    assertTrue(r.ok(), r.reason());
    assertTrue(r.linksChecked());
    assertEquals(10, r.count());
    assertEquals(2, r.roots());
    assertEquals(events.get(9).hash(), r.headHash());
  }

  @Test
  void oneFlippedByteOfAnExportedEventIsReportedAtItsSeq() throws Exception {
    List<String> lines = new ArrayList<>(export(AuditFilter.ALL).lines().toList());
    lines.set(7, lines.get(7).replace("\"tenant\":\"globex\"", "\"tenant\":\"globey\"")); // event 6
    VerifyResult r = verify(String.join("\n", lines));
    assertFalse(r.ok());
    assertEquals(6, r.firstBrokenSeq());
    assertTrue(r.reason().startsWith("hash does not match the event's content"), r.reason());
  }

  @Test
  void anExportCutShortOfTheHeadItsHeaderNamesFails() throws Exception {
    List<String> lines = export(AuditFilter.ALL).lines().toList();
    VerifyResult r = verify(String.join("\n", lines.subList(0, lines.size() - 1)));
    assertEquals(10, r.firstBrokenSeq());
    assertTrue(r.reason().startsWith("the export ends at seq 9"), r.reason());
  }

  @Test
  void aLineThatIsNotJsonBreaksTheChainWhereItStands() throws Exception {
    List<String> lines = new ArrayList<>(export(AuditFilter.ALL).lines().toList());
    lines.set(3, lines.get(3).substring(0, 20));
    VerifyResult r = verify(String.join("\n", lines));
    assertEquals(3, r.firstBrokenSeq());
    assertTrue(r.reason().startsWith("line 4 is not valid JSON"), r.reason());
  }

  @Test
  void aFilteredExportChecksEachHashButNotTheLinks() throws Exception {
    String text = export(AuditFilter.ALL.tenant("acme"));
    assertTrue(text.lines().findFirst().orElseThrow().contains("\"criteria\":{\"tenant\":\"acme\"},\"exported_at_epoch_ms\":42,\"filtered\":true"));
    VerifyResult r = verify(text);
    assertTrue(r.ok(), r.reason());
    assertFalse(r.linksChecked());
    assertEquals(5, r.count());
    VerifyResult flipped = verify(text.replace("\"target\":\"key-3\"", "\"target\":\"key-4\""));
    assertEquals(5, flipped.firstBrokenSeq());
  }

  @Test
  void anExportOfAPrunedChainVerifiesFromItsCheckpoint() throws Exception {
    var pruned = AuditFixtures.pruned(dir.resolve("pruned"));
    var out = new StringWriter();
    AuditExport.write(pruned, AuditFilter.ALL, 4, AuditExport.Format.JSONL, out, 42);
    List<String> lines = out.toString().lines().toList();
    assertTrue(lines.get(0).contains("\"pruned_through_seq\":8,"), lines.get(0));
    assertTrue(lines.get(1).startsWith("{\"block\":0,"), lines.get(1)); // pruned blocks keep their roots
    VerifyResult r = verify(out.toString());
    assertTrue(r.ok(), r.reason());
    assertEquals(8, r.prunedThroughSeq());
    assertEquals(3, r.count());
    VerifyResult forged = verify(out.toString().replace("\"pruned_through_seq\":8,", "\"pruned_through_seq\":4,"));
    assertFalse(forged.ok());
  }

  @Test
  void aFileThatIsNotAnExportIsRefusedAsSuch() {
    var e = assertThrows(AuditExport.NotAnExport.class, () -> verify("{\"seq\":1}\n"));
    assertTrue(e.getMessage().startsWith("not a Dalang audit export"), e.getMessage());
    assertThrows(AuditExport.NotAnExport.class, () -> verify(""));
  }

  @Test
  void csvQuotesFieldsWithCommasQuotesAndLineBreaksAndEndsLinesWithCrLf() throws Exception {
    var odd = AuditChain.next(store.head(), AuditFixtures.T0, new AuditEntry("acme", "key-1", "secret.read", "db,\"prod\"\nline",
        AuditOutcome.OK, "", new TreeMap<>(java.util.Map.of("why", "audit"))));
    store.append(List.of(odd), List.of());
    var out = new StringWriter();
    AuditExport.write(store, AuditFilter.ALL.action("secret.read"), 4, AuditExport.Format.CSV, out, 42);
    String[] rows = out.toString().split("\r\n", -1);
    assertEquals(String.join(",", AuditExport.CSV_COLUMNS), rows[0]);
    assertEquals("event,11,2025-01-01T00:00:00Z,1735689600000,acme,key-1,secret.read,\"db,\"\"prod\"\"\nline\",ok,,"
        + "\"{\"\"why\"\":\"\"audit\"\"}\"," + events.get(9).hash() + "," + odd.hash() + ",,,,", rows[1]);
    assertEquals("", rows[2]);
    assertEquals("plain", AuditExport.csvField("plain"));
    assertEquals("\"a,b\"", AuditExport.csvField("a,b"));
  }

  @Test
  void csvCellsThatASpreadsheetWouldReadAsAFormulaStartWithAQuote() throws Exception {
    var formula = AuditChain.next(store.head(), AuditFixtures.T0, new AuditEntry("acme", "@key-1", "secret.read", "=cmd|' /C calc'!A0",
        AuditOutcome.FAILED, "+1+cmd|' /C calc'!A0", new TreeMap<>()));
    store.append(List.of(formula), List.of());
    var out = new StringWriter();
    AuditExport.write(store, AuditFilter.ALL.action("secret.read"), 4, AuditExport.Format.CSV, out, 42);
    String row = out.toString().split("\r\n", -1)[1];
    assertTrue(row.contains(",'@key-1,secret.read,'=cmd|' /C calc'!A0,failed,'+1+cmd|' /C calc'!A0,{},"), row);
    for (String cell : row.split(",")) assertFalse(cell.startsWith("=") || cell.startsWith("+") || cell.startsWith("@"), cell);
    assertEquals("'-2", AuditExport.csvField("-2"));
    assertEquals("\"'\tx,y\"", AuditExport.csvField("\tx,y"));
    assertEquals("\"'\r\"", AuditExport.csvField("\r"));
    var jsonl = new StringWriter();
    AuditExport.write(store, AuditFilter.ALL, 4, AuditExport.Format.JSONL, jsonl, 42);
    assertTrue(verify(jsonl.toString()).ok(), "JSON Lines keep the values as stored: their hashes still check");
  }

  @Test
  void csvOfTheWholeChainHasARowPerRoot() throws Exception {
    var out = new StringWriter();
    AuditExport.write(store, AuditFilter.ALL, 4, AuditExport.Format.CSV, out, 42);
    List<String> rows = out.toString().lines().toList();
    assertEquals(1 + 10 + 2, rows.size());
    assertTrue(rows.get(5).startsWith("root,,,,,,,,,,,,,0,1,4,"), rows.get(5));
  }

  private String export(AuditFilter filter) throws Exception {
    var out = new StringWriter();
    AuditExport.write(store, filter, 4, AuditExport.Format.JSONL, out, 42);
    return out.toString();
  }

  private static VerifyResult verify(String text) throws Exception {
    return AuditExport.verify(new BufferedReader(new StringReader(text)));
  }
}
