package io.dalang.actors.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes the ledger as JSON Lines or CSV, and verifies an exported JSON Lines file on its own, so an
 * auditor can check a chain away from the cluster.
 *
 * <h2>JSON Lines</h2>
 * Line 1 is a header, then one line per event in seq order, each full block's root on the line after the
 * block's last event (the roots of blocks pruned by retention come before the first event; the header
 * names the checkpoint the chain starts from). Every line is one JSON object in the canonical form ({@link CanonicalJson}):
 * <pre>{@code
 * {"block_size":64,"criteria":{},"exported_at_epoch_ms":…,"filtered":false,"format":"dalang-audit/1","head_hash":"…","head_seq":130,"pruned_through_hash":"000…","pruned_through_seq":0,"type":"header"}
 * {"action":"key.issue","actor":"bootstrap-admin","details":{},"hash":"…","outcome":"ok","prev_hash":"000…","reason":"","seq":1,"target":"k1","tenant":"acme","time_epoch_ms":…,"type":"event"}
 * {"block":0,"first_seq":1,"last_seq":64,"root":"…","type":"root"}
 * }</pre>
 * An event line without {@code hash} and {@code type} is exactly the event's canonical JSON. A filtered
 * export ({@code "filtered":true}, criteria listed) holds only the selected events and no roots: each
 * event's hash can be checked, the links between them cannot. The header itself is not hashed: compare
 * its {@code head_hash} with one obtained independently (e.g. {@code dalang audit verify} at export time).
 *
 * <h2>CSV</h2>
 * RFC 4180 (comma separated, CRLF line ends, fields with a comma, quote, CR or LF quoted, quotes
 * doubled), header row {@link #CSV_COLUMNS}; event rows leave the block columns empty, root rows
 * ({@code type = root}) the event columns. A cell that would start with {@code = + - @}, tab or CR
 * starts with {@code '} instead (see {@link #csvField}). For reading in a spreadsheet; verify with JSON Lines.
 */
public final class AuditExport {
  private AuditExport() {}

  /** The {@code format} an export's header names. */
  public static final String FORMAT = "dalang-audit/1";

  public static final List<String> CSV_COLUMNS = List.of("type", "seq", "time", "time_epoch_ms", "tenant", "actor", "action",
      "target", "outcome", "reason", "details", "prev_hash", "hash", "block", "first_seq", "last_seq", "root");

  public enum Format { JSONL, CSV }

  /** What an export wrote. */
  public record Summary(long events, long roots, boolean filtered, AuditChain.Head head) {}

  /** A stored row cannot be read as an event: the chain is broken there, so no export is written past it. */
  public static final class UnreadableEvent extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UnreadableEvent(long seq, String why) {
      super("audit event " + seq + " is unreadable (" + why + "); the chain is broken there, see `dalang audit verify`");
    }
  }

  /** The file given to {@link #verify} is not a Dalang audit export (its first line says so). */
  public static final class NotAnExport extends Exception {
    private static final long serialVersionUID = 1L;

    NotAnExport(String message) {
      super(message);
    }
  }

  /**
   * Writes the stored chain up to its current head, or the events the filter selects. A stored row that
   * cannot be read as an event stops the export with {@link UnreadableEvent}.
   */
  public static Summary write(AuditStore store, AuditFilter filter, int configuredBlockSize, Format format, Writer out,
      long nowEpochMs) throws IOException {
    var sink = format == Format.JSONL ? new JsonLines(out) : new Csv(out);
    try {
      Summary summary = store.read("export the audit chain", snap -> {
        AuditChain.Head head = snap.head();
        boolean filtered = filter.selects();
        Deque<BlockRoot> roots = new ArrayDeque<>(filtered ? List.of() : snap.roots(head.seq()));
        sink.header(new Header(head, snap.checkpoint(), snap.chainBlockSize().orElse(configuredBlockSize), filter, nowEpochMs));
        long[] counts = new long[2];
        snap.forEachRow(filter, head.seq(), row -> {
          if (row.event() == null) throw new UnreadableEvent(row.seq(), row.unreadable());
          counts[1] += writeRoots(roots, row.seq() - 1, sink); // pruned blocks' roots come first
          sink.event(row.event());
          counts[0]++;
          counts[1] += writeRoots(roots, row.seq(), sink);
          return true;
        });
        return new Summary(counts[0], counts[1], filtered, head);
      });
      out.flush();
      return summary;
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Writes the roots of blocks that end at or before {@code seq}; how many. */
  private static int writeRoots(Deque<BlockRoot> roots, long seq, Sink sink) {
    int n = 0;
    for (; !roots.isEmpty() && roots.peekFirst().lastSeq() <= seq; n++) sink.root(roots.removeFirst());
    return n;
  }

  private record Header(AuditChain.Head head, AuditChain.Head checkpoint, int blockSize, AuditFilter filter, long nowEpochMs) {}

  private interface Sink {
    void header(Header h);

    void event(AuditEvent e);

    void root(BlockRoot r);
  }

  private abstract static class Lines implements Sink {
    private final Writer out;

    Lines(Writer out) {
      this.out = out;
    }

    final void line(String s, String end) {
      try {
        out.write(s);
        out.write(end);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static final class JsonLines extends Lines {
    JsonLines(Writer out) {
      super(out);
    }

    @Override
    public void header(Header h) {
      var m = new TreeMap<String, Object>();
      m.put("type", "header");
      m.put("format", FORMAT);
      m.put("block_size", h.blockSize());
      m.put("filtered", h.filter().selects());
      m.put("criteria", new TreeMap<>(h.filter().criteria()));
      m.put("head_seq", h.head().seq());
      m.put("head_hash", h.head().hash());
      m.put("pruned_through_seq", h.checkpoint().seq());
      m.put("pruned_through_hash", h.checkpoint().hash());
      m.put("exported_at_epoch_ms", h.nowEpochMs());
      line(CanonicalJson.object(m), "\n");
    }

    @Override
    public void event(AuditEvent e) {
      var m = e.canonicalMembers();
      m.put("hash", e.hash());
      m.put("type", "event");
      line(CanonicalJson.object(m), "\n");
    }

    @Override
    public void root(BlockRoot r) {
      var m = new TreeMap<String, Object>();
      m.put("type", "root");
      m.put("block", r.block());
      m.put("first_seq", r.firstSeq());
      m.put("last_seq", r.lastSeq());
      m.put("root", r.root());
      line(CanonicalJson.object(m), "\n");
    }
  }

  private static final class Csv extends Lines {
    Csv(Writer out) {
      super(out);
    }

    @Override
    public void header(Header h) {
      row(CSV_COLUMNS);
    }

    @Override
    public void event(AuditEvent e) {
      row(List.of("event", Long.toString(e.seq()), Instant.ofEpochMilli(e.timeEpochMs()).toString(), Long.toString(e.timeEpochMs()),
          e.tenant(), e.actor(), e.action(), e.target(), e.outcome(), e.reason(), e.detailsJson(), e.prevHash(), e.hash(),
          "", "", "", ""));
    }

    @Override
    public void root(BlockRoot r) {
      row(List.of("root", "", "", "", "", "", "", "", "", "", "", "", "",
          Long.toString(r.block()), Long.toString(r.firstSeq()), Long.toString(r.lastSeq()), r.root()));
    }

    private void row(List<String> fields) {
      var b = new StringBuilder();
      for (int i = 0; i < fields.size(); i++) {
        if (i > 0) b.append(',');
        b.append(csvField(fields.get(i)));
      }
      line(b.toString(), "\r\n");
    }
  }

  /**
   * One RFC 4180 field: quoted (quotes doubled) if it holds a comma, a quote, CR or LF; as is otherwise. A
   * field that starts with {@code = + - @}, a tab or CR gets a leading {@code '} first (OWASP's defence
   * against CSV injection), so that no spreadsheet reads a tenant's text as a formula.
   */
  static String csvField(String s) {
    if (!s.isEmpty() && "=+-@\t\r".indexOf(s.charAt(0)) >= 0) s = "'" + s;
    if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\r') < 0 && s.indexOf('\n') < 0) return s;
    return '"' + s.replace("\"", "\"\"") + '"';
  }

  // ---- verifying an export ----

  private static final Set<String> EVENT_FIELDS = Set.of("type", "seq", "time_epoch_ms", "tenant", "actor", "action", "target",
      "outcome", "reason", "details", "prev_hash", "hash");
  private static final Set<String> ROOT_FIELDS = Set.of("type", "block", "first_seq", "last_seq", "root");

  /**
   * Verifies an exported JSON Lines file on its own. A whole-chain export: every hash, every link, every
   * block root, and that it ends at the head its header names. A filtered export: each event's hash and
   * that seqs ascend ({@link VerifyResult#linksChecked()} false). Malformed lines break the chain where
   * they stand.
   *
   * @throws NotAnExport if the first line is not a {@value #FORMAT} header
   */
  public static VerifyResult verify(BufferedReader in) throws IOException, NotAnExport {
    JsonNode header = header(in.readLine());
    boolean filtered = header.path("filtered").asBoolean(true);
    int blockSize = header.path("block_size").asInt(0);
    if (!filtered && blockSize < 1) throw new NotAnExport("the export's header has no valid block_size");
    var checkpoint = new AuditChain.Head(header.path("pruned_through_seq").asLong(0),
        header.path("pruned_through_hash").asText(AuditChain.GENESIS_HASH));
    var check = filtered ? new HashesOnly() : new WholeChain(new AuditChain.Verifier(blockSize, checkpoint), header);
    long lineNo = 1;
    for (String line; (line = in.readLine()) != null; ) {
      lineNo++;
      if (line.isEmpty()) continue;
      JsonNode node;
      try {
        node = AuditJson.MAPPER.readTree(line);
      } catch (JsonProcessingException e) {
        check.breakAt("line " + lineNo + " is not valid JSON (" + e.getOriginalMessage() + ")");
        continue;
      }
      String type = node.path("type").asText("");
      try {
        switch (type) {
          case "event" -> check.event(event(node));
          case "root" -> check.root(root(node));
          default -> check.breakAt("line " + lineNo + " has an unknown type '" + type + "'");
        }
      } catch (IllegalArgumentException e) {
        check.breakAt("line " + lineNo + " is not a valid " + type + " (" + e.getMessage() + ")");
      }
    }
    return check.finish();
  }

  private static JsonNode header(String first) throws NotAnExport {
    String what = "not a Dalang audit export (its first line must be a " + FORMAT + " header)";
    if (first == null) throw new NotAnExport("the file is empty: " + what);
    try {
      JsonNode h = AuditJson.MAPPER.readTree(first);
      if (!"header".equals(h.path("type").asText()) || !FORMAT.equals(h.path("format").asText())) throw new NotAnExport(what);
      return h;
    } catch (JsonProcessingException e) {
      throw new NotAnExport(what);
    }
  }

  private interface Check {
    void event(AuditEvent e);

    void root(BlockRoot r);

    void breakAt(String reason);

    VerifyResult finish();
  }

  /** A whole chain: the {@link AuditChain.Verifier}, then the header's head. */
  private static final class WholeChain implements Check {
    private final AuditChain.Verifier verifier;
    private final JsonNode header;

    WholeChain(AuditChain.Verifier verifier, JsonNode header) {
      this.verifier = verifier;
      this.header = header;
    }

    @Override
    public void event(AuditEvent e) {
      verifier.event(e);
    }

    @Override
    public void root(BlockRoot r) {
      verifier.root(r);
    }

    @Override
    public void breakAt(String reason) {
      verifier.breakAt(verifier.expectedSeq(), reason);
    }

    @Override
    public VerifyResult finish() {
      VerifyResult r = verifier.finish();
      long headSeq = header.path("head_seq").asLong(-1);
      String headHash = header.path("head_hash").asText("");
      if (r.ok() && (r.headSeq() != headSeq || !r.headHash().equals(headHash))) {
        return VerifyResult.broken(r.count(), r.headSeq(), r.headHash(), r.roots(), Math.min(r.headSeq(), Math.max(headSeq, 0)) + 1,
            "the export ends at seq " + r.headSeq() + " (" + r.headHash() + ") but its header names head seq " + headSeq
                + " (" + headHash + ")", true, r.prunedThroughSeq());
      }
      return r;
    }
  }

  /** A filtered export: each event's own hash, seqs ascending; no links, no roots. */
  private static final class HashesOnly implements Check {
    private long count;
    private long lastSeq;
    private String lastHash = AuditChain.GENESIS_HASH;
    private String failure;
    private long failureSeq;

    @Override
    public void event(AuditEvent e) {
      if (failure != null) return;
      if (e.seq() <= lastSeq) {
        fail(e.seq(), "seq " + e.seq() + " appears again or out of order after seq " + lastSeq);
      } else if (!e.computeHash().equals(e.hash())) {
        fail(e.seq(), "hash does not match the event's content: stored " + e.hash() + ", computed " + e.computeHash());
      } else {
        count++;
        lastSeq = e.seq();
        lastHash = e.hash();
      }
    }

    @Override
    public void root(BlockRoot r) {
      // A filtered export has no roots; one found here cannot be checked without the block's events.
    }

    @Override
    public void breakAt(String reason) {
      if (failure == null) fail(lastSeq + 1, reason);
    }

    private void fail(long seq, String reason) {
      failure = reason;
      failureSeq = seq;
    }

    @Override
    public VerifyResult finish() {
      return failure == null
          ? VerifyResult.intact(count, lastSeq, lastHash, 0, false, 0)
          : VerifyResult.broken(count, lastSeq, lastHash, 0, failureSeq, failure, false, 0);
    }
  }

  private static AuditEvent event(JsonNode n) {
    fieldsAre(n, EVENT_FIELDS);
    return new AuditEvent(integer(n, "seq"), integer(n, "time_epoch_ms"), text(n, "tenant"), text(n, "actor"), text(n, "action"),
        text(n, "target"), text(n, "outcome"), text(n, "reason"), AuditJson.stringMap(n.get("details"), "details"),
        text(n, "prev_hash"), text(n, "hash"));
  }

  private static BlockRoot root(JsonNode n) {
    fieldsAre(n, ROOT_FIELDS);
    return new BlockRoot(integer(n, "block"), integer(n, "first_seq"), integer(n, "last_seq"), text(n, "root"));
  }

  private static void fieldsAre(JsonNode n, Set<String> expected) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!expected.contains(f)) throw new IllegalArgumentException("unexpected field " + f);
    }
    for (String f : expected) {
      if (!n.has(f)) throw new IllegalArgumentException("no field " + f);
    }
  }

  private static long integer(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new IllegalArgumentException(field + " is not an integer");
    return v.longValue();
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (!v.isTextual()) throw new IllegalArgumentException(field + " is not a string");
    return v.textValue();
  }
}
