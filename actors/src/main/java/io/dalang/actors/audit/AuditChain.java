package io.dalang.actors.audit;

import io.dalang.engine.Digests;
import io.dalang.protocols.CborSerializable;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The rules of the audit ledger, without any I/O: how the next event is chained to the head, how a
 * block's Merkle root is computed, and how a stored chain is verified. The writer ({@link AuditActor}),
 * the store's verification and the verification of an exported file all use these, so there is one
 * definition of "intact".
 *
 * <h2>Chain</h2>
 * Events are numbered from 1 without gaps. Event {@code n} holds {@code prev_hash} = the {@code hash} of
 * event {@code n - 1}; event 1 holds {@link #GENESIS_HASH}. Each hash is SHA-256 over the event's
 * canonical JSON ({@link AuditEvent#canonicalJson()}).
 *
 * <h2>Pruning</h2>
 * With a retention set, whole blocks of old events may be deleted. The chain then starts after a
 * <em>checkpoint</em> (the last pruned event's seq and hash): the first remaining event links to the
 * checkpoint's hash, the pruned blocks keep their stored roots, and the latest
 * {@link AuditAction#AUDIT_PRUNE} event in the chain must name the checkpoint, so that deleting old
 * events without the writer (and without that attestation) still breaks verification.
 *
 * <h2>Blocks and Merkle roots</h2>
 * With block size N, block {@code k} (from 0) holds events {@code k*N+1 .. (k+1)*N}. When its last event
 * is appended, the block's root is stored beside the chain (in the same transaction). A partial last
 * block has no root until it is full. See {@link #merkleRoot} for the tree.
 */
public final class AuditChain {
  private AuditChain() {}

  /** The {@code prev_hash} of the first event: 64 zeros. */
  public static final String GENESIS_HASH = "0".repeat(64);

  /** The last event of a chain: what the next one links to. */
  public record Head(long seq, String hash) implements CborSerializable {
    public static final Head GENESIS = new Head(0, GENESIS_HASH);
  }

  /** The event that follows {@code head}: the next seq, head's hash as its {@code prev_hash}, its own hash. */
  public static AuditEvent next(Head head, long timeEpochMs, AuditEntry e) {
    return new AuditEvent(head.seq() + 1, timeEpochMs, e.tenant(), e.actor(), e.action(), e.target(),
        e.outcome().wire(), e.reason(), e.details(), head.hash(), "").withComputedHash();
  }

  public static Head headOf(AuditEvent e) {
    return new Head(e.seq(), e.hash());
  }

  /** The block that holds {@code seq}. */
  public static long blockOf(long seq, int blockSize) {
    return (seq - 1) / blockSize;
  }

  /** Whether {@code seq} is the last event of its block, so the block's root is due. */
  public static boolean endsBlock(long seq, int blockSize) {
    return seq % blockSize == 0;
  }

  /** The root of block {@code block}, over its events' hashes in seq order. */
  public static BlockRoot blockRoot(long block, int blockSize, List<String> hashes) {
    if (hashes.size() != blockSize) {
      throw new IllegalArgumentException("block " + block + " needs " + blockSize + " hashes, got " + hashes.size());
    }
    return new BlockRoot(block, block * blockSize + 1, (block + 1) * blockSize, merkleRoot(hashes));
  }

  /**
   * The Merkle root of a list of event hashes (lower-case hex), as lower-case hex: a binary tree whose
   * leaves are the 32-byte hashes themselves (not hashed again); each parent is SHA-256 over its left
   * child's 32 bytes followed by its right child's 32 bytes; a node left without a partner at the end of
   * a level is <b>promoted</b> unchanged to the next level (not duplicated, so no two lists share a
   * root). A single hash is its own root.
   */
  public static String merkleRoot(List<String> leafHashes) {
    if (leafHashes.isEmpty()) throw new IllegalArgumentException("a Merkle root needs at least one hash");
    var hex = HexFormat.of();
    List<byte[]> level = new ArrayList<>(leafHashes.size());
    for (String h : leafHashes) level.add(hex.parseHex(h));
    MessageDigest sha = sha256();
    while (level.size() > 1) {
      List<byte[]> up = new ArrayList<>((level.size() + 1) / 2);
      for (int i = 0; i < level.size(); i += 2) {
        if (i + 1 == level.size()) {
          up.add(level.get(i));
        } else {
          sha.update(level.get(i));
          sha.update(level.get(i + 1));
          up.add(sha.digest());
        }
      }
      level = up;
    }
    return hex.formatHex(level.get(0));
  }

  /** Verifies a whole chain from seq 1; see {@link Verifier} for what is checked. */
  public static VerifyResult verify(Iterator<AuditEvent> events, Iterator<BlockRoot> roots, int blockSize) {
    var v = new Verifier(blockSize);
    roots.forEachRemaining(v::root);
    while (events.hasNext() && v.event(events.next())) {
      // each event is checked as it is fed
    }
    return v.finish();
  }

  /**
   * Walks a chain fed one event (in stored order) and one root at a time and remembers the first place
   * where it is broken. Checks, per event: its seq is the next one, its {@code prev_hash} is the previous
   * event's hash, and its hash is the SHA-256 of its content; per block: a root is stored for every full
   * block, it covers exactly that block's seq range and equals the root computed from the block's
   * hashes, and no root is stored for a block the chain does not fill.
   *
   * <p>A verifier built with a checkpoint starts after it (see "Pruning" above); the roots of pruned
   * blocks are accepted without their events, and the latest {@code audit.prune} event must name the
   * checkpoint (and there must be none without one).
   *
   * <p>Roots may be fed before, among or after the events. Once an event fails, later events are
   * ignored (every link after a break is meaningless); {@link #finish()} reports the failure with the
   * lowest position.
   */
  public static final class Verifier {
    private final int blockSize;
    private final Map<Long, BlockRoot> storedWaiting = new HashMap<>();
    private final Map<Long, String> computedWaiting = new TreeMap<>();
    private final Set<Long> rootsSeen = new HashSet<>();
    private final List<String> blockHashes = new ArrayList<>();
    private final Head checkpoint;
    private long lastSeq;
    private String lastHash;
    /** What the latest audit.prune event walked so far says was pruned; null if none. */
    private Head attestedPrune;
    private long count;
    private long rootsOk;
    private boolean chainBroken;
    private long failureSeq;
    private String failureReason;

    public Verifier(int blockSize) {
      this(blockSize, Head.GENESIS);
    }

    /** A verifier for a chain whose events up to {@code checkpoint} were pruned. */
    public Verifier(int blockSize, Head checkpoint) {
      if (blockSize < 1) throw new IllegalArgumentException("block size must be at least 1, not " + blockSize);
      this.blockSize = blockSize;
      this.checkpoint = checkpoint;
      this.lastSeq = checkpoint.seq();
      this.lastHash = checkpoint.hash();
      if (checkpoint.seq() % blockSize != 0) {
        breakChain(checkpoint.seq() + 1, "the chain is said to be pruned through seq " + checkpoint.seq()
            + ", which does not end a block of " + blockSize + "; the writer prunes whole blocks only");
      }
    }

    /** Checks the next event; false once the chain is broken (here or before). */
    public boolean event(AuditEvent e) {
      return event(e, null);
    }

    /**
     * Checks the next event read from a store that also keeps its canonical JSON as text: that text must
     * be the event's canonical JSON too (checked after the seq, the link and the hash).
     */
    public boolean event(AuditEvent e, String storedCanonical) {
      if (chainBroken) return false;
      long want = lastSeq + 1;
      if (e.seq() != want) {
        return breakChain(want, e.seq() > want
            ? (e.seq() - 1 == want ? "event " + want + " is missing" : "events " + want + ".." + (e.seq() - 1) + " are missing")
                + " (the next one found is seq " + e.seq() + ")"
            : "seq " + e.seq() + " appears again or out of order after seq " + lastSeq);
      }
      if (!e.prevHash().equals(lastHash)) {
        return breakChain(want, "prev_hash " + e.prevHash() + " is not the hash of "
            + (lastSeq == 0 ? "the genesis (" : "seq " + lastSeq + " (") + lastHash + ")");
      }
      String canonical = e.canonicalJson();
      String computed = Digests.sha256(canonical);
      if (!computed.equals(e.hash())) {
        return breakChain(want, "hash does not match the event's content: stored " + e.hash() + ", computed " + computed);
      }
      if (storedCanonical != null && !storedCanonical.equals(canonical)) {
        return breakChain(want, "the stored canonical_json differs from the event's columns");
      }
      lastSeq = want;
      lastHash = computed;
      count++;
      if (AuditAction.AUDIT_PRUNE.equals(e.action())) attestedPrune = prunedBy(e);
      blockHashes.add(computed);
      if (endsBlock(want, blockSize)) {
        long block = blockOf(want, blockSize);
        String root = merkleRoot(blockHashes);
        blockHashes.clear();
        BlockRoot stored = storedWaiting.remove(block);
        if (stored != null) {
          compare(stored, root);
        } else {
          computedWaiting.put(block, root);
        }
      }
      return true;
    }

    /** Takes one stored root into account. */
    public void root(BlockRoot r) {
      long first = r.block() * blockSize + 1;
      long last = (r.block() + 1) * blockSize;
      if (r.block() < 0 || r.firstSeq() != first || r.lastSeq() != last) {
        fail(Math.max(1, r.firstSeq()), "the root stored as block " + r.block() + " covers seq "
            + r.firstSeq() + ".." + r.lastSeq() + "; with block size " + blockSize + " block " + r.block() + " is seq "
            + first + ".." + last);
        return;
      }
      if (last <= checkpoint.seq()) {
        return; // a pruned block: its root stays on record, its events are gone
      }
      if (!rootsSeen.add(r.block())) {
        fail(first, "block " + r.block() + " (seq " + first + ".." + last + ") has more than one stored root");
        return;
      }
      String computed = computedWaiting.remove(r.block());
      if (computed != null) {
        compare(r, computed);
      } else {
        storedWaiting.put(r.block(), r);
      }
    }

    /**
     * Marks the chain broken at {@code seq} for a reason found outside these rules (an unreadable row or
     * line, a stored canonical form that differs from the columns); later events are ignored.
     */
    public void breakAt(long seq, String reason) {
      breakChain(seq, reason);
    }

    private void fail(long seq, String reason) {
      if (failureReason == null || seq < failureSeq) {
        failureSeq = seq;
        failureReason = reason;
      }
    }

    /** The seq the next event must have. */
    public long expectedSeq() {
      return lastSeq + 1;
    }

    public VerifyResult finish() {
      computedWaiting.forEach((block, root) -> fail(block * blockSize + 1,
          "block " + block + " (seq " + (block * blockSize + 1) + ".." + (block + 1) * blockSize + ") is full but has no stored Merkle root"));
      if (!chainBroken) {
        storedWaiting.values().forEach(r -> fail(r.firstSeq(), "a Merkle root is stored for block " + r.block() + " (seq "
            + r.firstSeq() + ".." + r.lastSeq() + ") but the chain ends at seq " + lastSeq));
        checkPruneAttested();
      }
      return failureReason == null
          ? VerifyResult.intact(count, lastSeq, lastHash, rootsOk, true, checkpoint.seq())
          : VerifyResult.broken(count, lastSeq, lastHash, rootsOk, failureSeq, failureReason, true, checkpoint.seq());
    }

    private void checkPruneAttested() {
      Head attested = attestedPrune != null ? attestedPrune : Head.GENESIS;
      if (attested.equals(checkpoint)) return;
      if (checkpoint.seq() == 0) {
        fail(1, "the latest audit.prune event says seq 1.." + attested.seq() + " were pruned, but the chain holds no checkpoint");
      } else if (attestedPrune == null) {
        fail(checkpoint.seq() + 1, "the chain starts after seq " + checkpoint.seq()
            + " (pruned), but no audit.prune event in the chain attests that pruning");
      } else {
        fail(checkpoint.seq() + 1, "the chain starts after seq " + checkpoint.seq() + " (" + checkpoint.hash()
            + "), but the latest audit.prune event says it was pruned through seq " + attested.seq() + " (" + attested.hash() + ")");
      }
    }

    private static Head prunedBy(AuditEvent prune) {
      try {
        return new Head(Long.parseLong(prune.details().getOrDefault("through_seq", "")), prune.details().getOrDefault("through_hash", ""));
      } catch (NumberFormatException e) {
        return new Head(-1, "");
      }
    }

    private void compare(BlockRoot stored, String computed) {
      if (stored.root().equals(computed)) {
        rootsOk++;
      } else {
        fail(stored.firstSeq(), "Merkle root of block " + stored.block() + " (seq " + stored.firstSeq() + ".." + stored.lastSeq()
            + ") does not match its events: stored " + stored.root() + ", computed " + computed);
      }
    }

    private boolean breakChain(long seq, String reason) {
      chainBroken = true;
      fail(seq, reason);
      return false;
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
