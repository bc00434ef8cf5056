package io.dalang.actors.audit;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.files.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Anchors the audit chain outside the database, so that someone who can rewrite the database (but not
 * read {@code <data-dir>/audit.key}) cannot cut off its newest events or rewrite it unseen.
 *
 * <p>The writer signs, with HMAC-SHA256 under a random 256-bit key kept in {@code audit.key} (0600,
 * created on first start), a checkpoint per full block, {@code audit-checkpoints/<block>.json} (created
 * once, never rewritten: {@code root}, {@code first_seq}, {@code last_seq}, {@code head_hash} = the hash
 * of the block's last event, {@code count}), the chain's head after every batch ({@code head.json},
 * replaced), and once the seq from which it anchors ({@code anchored-since.json}: events before it were
 * written by a version without anchoring). Each file is one canonical JSON object with a {@code mac}
 * over the others. {@link #check} compares them with the stored chain.
 */
public final class AuditAnchor {
  private static final Logger log = LoggerFactory.getLogger(AuditAnchor.class);
  public static final String KEY_FILE = "audit.key";
  public static final String DIR = "audit-checkpoints";
  static final String HEAD = "head.json";
  static final String SINCE = "anchored-since.json";
  private static final Pattern BLOCK_FILE = Pattern.compile("(0|[1-9][0-9]{0,17})\\.json");
  /** Checkpoint files are a few hundred bytes; anything larger is not one (and is not read whole). */
  private static final long MAX_FILE = 4096;

  private final Path dir;
  private final byte[] key;

  private AuditAnchor(Path dir, byte[] key) {
    this.dir = dir;
    this.key = key;
  }

  /** For the writer: the data dir's key and checkpoint folder, created (0600 / 0700) if missing. */
  public static AuditAnchor open(Path dataDir) throws IOException {
    Path keyFile = dataDir.resolve(KEY_FILE);
    if (!Files.exists(keyFile)) {
      byte[] k = new byte[32];
      new SecureRandom().nextBytes(k);
      try {
        PrivateFiles.createNew(keyFile, (Base64.getEncoder().encodeToString(k) + "\n").getBytes(StandardCharsets.US_ASCII));
        log.info("audit ledger: created the checkpoint key {} (0600); keep a copy apart from the database", keyFile);
      } catch (FileAlreadyExistsException e) {
        // another process created it first: use that one
      }
    }
    PrivateFiles.createDirectories(dataDir.resolve(DIR));
    return new AuditAnchor(dataDir.resolve(DIR), readKey(keyFile));
  }

  /** For verification: the data dir's anchor, or null if it has no key (never served by an anchoring version). */
  public static AuditAnchor existing(Path dataDir) throws IOException {
    Path keyFile = dataDir.resolve(KEY_FILE);
    return Files.isRegularFile(keyFile) ? new AuditAnchor(dataDir.resolve(DIR), readKey(keyFile)) : null;
  }

  private static byte[] readKey(Path keyFile) throws IOException {
    if (Files.size(keyFile) > MAX_FILE) throw new IOException(keyFile + " is not an audit key (too large)");
    try {
      byte[] k = Base64.getDecoder().decode(Files.readString(keyFile, StandardCharsets.US_ASCII).strip());
      if (k.length < 32) throw new IOException(keyFile + " is not an audit key (fewer than 32 bytes)");
      return k;
    } catch (IllegalArgumentException e) {
      throw new IOException(keyFile + " is not an audit key (not base64)", e);
    }
  }

  // ---- writing ----

  /** On the writer's start: notes where anchoring starts, if it has not started before. */
  public void start(AuditChain.Head head, long nowEpochMs) throws IOException {
    if (Files.exists(dir.resolve(SINCE))) return;
    var m = new TreeMap<String, Object>(Map.of("type", "since", "since_seq", head.seq(), "since_hash", head.hash(),
        "since_epoch_ms", nowEpochMs));
    PrivateFiles.createNew(dir.resolve(SINCE), signed(m));
  }

  /**
   * After a batch is stored: a checkpoint per block it completed, then the new head. A failure is logged
   * (verification will report the missing checkpoint), never undoes the stored batch.
   */
  public void stored(List<AuditEvent> events, List<BlockRoot> roots) {
    try {
      for (BlockRoot r : roots) {
        AuditEvent last = events.stream().filter(e -> e.seq() == r.lastSeq()).findFirst().orElseThrow();
        Path f = dir.resolve(r.block() + ".json");
        if (Files.exists(f)) {
          log.error("audit ledger: checkpoint {} exists already; not rewritten (run `dalang audit verify`)", f);
          continue;
        }
        PrivateFiles.createNew(f, signed(checkpoint(r, last.hash())));
      }
      if (!events.isEmpty()) {
        AuditEvent head = events.get(events.size() - 1);
        Path tmp = dir.resolve(HEAD + ".tmp");
        Files.deleteIfExists(tmp);
        PrivateFiles.createNew(tmp, signed(new TreeMap<>(Map.of("type", "head", "head_seq", head.seq(), "head_hash", head.hash()))));
        Files.move(tmp, dir.resolve(HEAD), java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException | RuntimeException e) {
      log.error("audit ledger: cannot write a checkpoint to {}: {}", dir, e.toString());
    }
  }

  private static TreeMap<String, Object> checkpoint(BlockRoot r, String headHash) {
    var m = new TreeMap<String, Object>();
    m.put("type", "checkpoint");
    m.put("block", r.block());
    m.put("first_seq", r.firstSeq());
    m.put("last_seq", r.lastSeq());
    m.put("root", r.root());
    m.put("head_hash", headHash);
    m.put("count", r.lastSeq());
    return m;
  }

  private byte[] signed(TreeMap<String, Object> m) {
    m.put("mac", mac(m));
    return (CanonicalJson.object(m) + "\n").getBytes(StandardCharsets.UTF_8);
  }

  /** HMAC-SHA256 of the canonical JSON of every member but {@code mac}, lower-case hex. */
  String mac(TreeMap<String, Object> m) {
    var unsigned = new TreeMap<>(m);
    unsigned.remove("mac");
    try {
      Mac h = Mac.getInstance("HmacSHA256");
      h.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(h.doFinal(CanonicalJson.object(unsigned).getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is not available", e);
    }
  }

  // ---- checking ----

  /**
   * What the anchors say about the stored chain.
   *
   * @param problems each a sentence: a truncated tail, a rewritten chain, a missing or forged checkpoint
   * @param notes facts that are not failures (where anchoring started)
   */
  public record Report(List<String> problems, List<String> notes) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  /** Compares the checkpoints with {@code store}'s chain (whose own hashes {@link AuditStore#verify} checks). */
  public Report check(AuditStore store) throws IOException {
    var problems = new ArrayList<String>();
    var notes = new ArrayList<String>();
    AuditChain.Head head = store.head();
    long prunedThrough = store.checkpoint().seq();
    JsonNode since = read(SINCE, problems);
    if (since == null) {
      if (!Files.exists(dir.resolve(SINCE))) problems.add("missing checkpoint: " + dir.resolve(SINCE) + " (where anchoring starts) is gone");
      return new Report(problems, notes);
    }
    long sinceSeq = since.path("since_seq").asLong();
    if (sinceSeq > 0) notes.add("not anchored before " + Instant.ofEpochMilli(since.path("since_epoch_ms").asLong()) + " (seq 1.." + sinceSeq
        + " are checked by the hash chain only)");
    if (sinceSeq > head.seq()) {
      problems.add("truncated tail: anchoring started at seq " + sinceSeq + ", but the chain ends at seq " + head.seq());
    }
    var stored = new TreeMap<Long, BlockRoot>();
    for (BlockRoot r : store.roots(Long.MAX_VALUE)) stored.put(r.block(), r);
    var seen = new java.util.HashSet<Long>();
    try (var files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (!BLOCK_FILE.matcher(name).matches()) continue;
        long block = Long.parseLong(name.substring(0, name.length() - ".json".length()));
        seen.add(block); // a forged one is reported as such, not as missing
        JsonNode cp = read(name, problems);
        if (cp == null) continue;
        if (cp.path("block").asLong() != block) {
          problems.add("forged checkpoint: " + f + " holds the checkpoint of block " + cp.path("block").asLong());
        } else {
          checkBlock(store, cp, stored.get(block), head, prunedThrough, problems);
        }
      }
    }
    for (BlockRoot r : stored.values()) {
      if (r.lastSeq() > sinceSeq && !seen.contains(r.block())) {
        problems.add("missing checkpoint: block " + r.block() + " (seq " + r.firstSeq() + ".." + r.lastSeq() + ") has no " + dir.resolve(r.block() + ".json"));
      }
    }
    JsonNode h = read(HEAD, problems);
    if (h == null && !Files.exists(dir.resolve(HEAD)) && head.seq() > sinceSeq) {
      problems.add("missing checkpoint: " + dir.resolve(HEAD) + " (the signed chain head) is gone");
    } else if (h != null) {
      checkHead(store, h.path("head_seq").asLong(), h.path("head_hash").asText(), head, prunedThrough, "the signed head", problems);
    }
    return new Report(problems, notes);
  }

  private void checkBlock(AuditStore store, JsonNode cp, BlockRoot root, AuditChain.Head head, long prunedThrough, List<String> problems) {
    long block = cp.path("block").asLong();
    long last = cp.path("last_seq").asLong();
    if (head.seq() < last) {
      problems.add("truncated tail: checkpoint of block " + block + " says the chain reached seq " + last + ", but it ends at seq " + head.seq());
      return;
    }
    if (root == null) {
      problems.add("rewritten chain: block " + block + " has a checkpoint but no stored Merkle root");
      return;
    }
    String headHash = last <= prunedThrough ? cp.path("head_hash").asText() : hashAt(store, last);
    var fromChain = checkpoint(root, headHash == null ? "" : headHash);
    fromChain.put("mac", cp.path("mac").asText());
    if (!MessageDigest.isEqual(mac(fromChain).getBytes(StandardCharsets.US_ASCII), cp.path("mac").asText().getBytes(StandardCharsets.US_ASCII))) {
      problems.add("rewritten chain: block " + block + " as stored (root " + shortHash(root.root()) + ") does not match its signed checkpoint"
          + " (root " + shortHash(cp.path("root").asText()) + "): MAC mismatch");
    }
  }

  private static void checkHead(AuditStore store, long seq, String hash, AuditChain.Head head, long prunedThrough, String what, List<String> problems) {
    if (head.seq() < seq) {
      problems.add("truncated tail: " + what + " says the chain reached seq " + seq + ", but it ends at seq " + head.seq());
    } else if (seq > prunedThrough && !hash.equals(hashAt(store, seq))) {
      problems.add("rewritten chain: event " + seq + " is not the one " + what + " names (hash " + shortHash(hash) + "): MAC mismatch");
    }
  }

  private static String hashAt(AuditStore store, long seq) {
    var e = store.query(AuditFilter.ALL.page(seq - 1, 1));
    return e.isEmpty() || e.get(0).seq() != seq ? null : e.get(0).hash();
  }

  /** A checkpoint file whose MAC holds, or null (and a problem, unless it is simply absent). */
  private JsonNode read(String name, List<String> problems) throws IOException {
    Path f = dir.resolve(name);
    if (!Files.isRegularFile(f)) return null;
    if (Files.size(f) > MAX_FILE) {
      problems.add("forged checkpoint: " + f + " is too large to be one");
      return null;
    }
    try {
      JsonNode n = AuditJson.MAPPER.readTree(Files.readString(f, StandardCharsets.UTF_8));
      var m = new TreeMap<String, Object>();
      n.properties().forEach(e -> m.put(e.getKey(), e.getValue().isNumber() ? (Object) e.getValue().asLong() : e.getValue().asText()));
      if (MessageDigest.isEqual(mac(m).getBytes(StandardCharsets.US_ASCII), n.path("mac").asText().getBytes(StandardCharsets.US_ASCII))) return n;
    } catch (IOException | RuntimeException e) {
      // unreadable: reported below like a wrong MAC
    }
    problems.add("forged checkpoint: " + f + " is not signed by " + KEY_FILE + " (damaged, or written by someone without the key)");
    return null;
  }

  private static String shortHash(String h) {
    return h.length() > 12 ? h.substring(0, 8) + "…" + h.substring(h.length() - 4) : h;
  }
}
