package io.dalang.actors.audit;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Entries, chains and a store on a temporary H2 file database, for the audit tests. */
final class AuditFixtures {
  private AuditFixtures() {}

  static final long T0 = 1_735_689_600_000L; // 2025-01-01T00:00:00Z

  /** An embedded H2 file database in {@code dir}, opened per call like the journal's. */
  static AuditStore store(Path dir) {
    var store = new AuditStore("jdbc:h2:file:" + dir.resolve("db").resolve("dalang"), "dalang", "");
    store.createTablesIfMissing();
    return store;
  }

  /** A store in {@code dir} holding {@code events} and the roots of their full blocks. */
  static AuditStore storeWith(Path dir, List<AuditEvent> events, int blockSize) {
    AuditStore store = store(dir);
    store.append(events, roots(events, blockSize));
    return store;
  }

  /**
   * A store whose chain of 11 events in blocks of 4 was pruned through seq 8 the way the writer does it:
   * event 11 is the audit.prune event naming seq 8, written in the same transaction as the deletion.
   */
  static AuditStore pruned(Path dir) {
    var events = new ArrayList<>(chain(10));
    AuditEvent through = events.get(7);
    var entry = AuditEntry.ok("", "system", AuditAction.AUDIT_PRUNE, "")
        .with(java.util.Map.of("through_seq", "8", "through_hash", through.hash()));
    AuditEvent prune = AuditChain.next(AuditChain.headOf(events.get(9)), T0 + 3_600_000L, entry);
    AuditStore store = storeWith(dir, events, 4);
    store.appendAndPrune(List.of(prune), List.of(), AuditChain.headOf(through));
    return store;
  }

  /** The i-th of a varied set of entries: two tenants, issue/revoke/denied. */
  static AuditEntry entry(int i) {
    String tenant = i % 2 == 0 ? "acme" : "globex";
    return switch (i % 3) {
      case 0 -> AuditEntry.ok(tenant, "bootstrap-admin", AuditAction.KEY_ISSUE, "key-" + i).with("pool", "p" + i);
      case 1 -> AuditEntry.ok(tenant, "key-admin", AuditAction.KEY_REVOKE, "key-" + (i - 1));
      default -> AuditEntry.denied(tenant, "key-" + i, AuditAction.ACCESS_DENIED, "POST /v1/admin/tenants", "not an admin key");
    };
  }

  /** A chain of {@code n} events from the genesis, one second apart. */
  static List<AuditEvent> chain(int n) {
    var out = new ArrayList<AuditEvent>();
    var head = AuditChain.Head.GENESIS;
    for (int i = 0; i < n; i++) {
      AuditEvent e = AuditChain.next(head, T0 + i * 1000L, entry(i));
      out.add(e);
      head = AuditChain.headOf(e);
    }
    return out;
  }

  /** The roots of every full block of {@code events}. */
  static List<BlockRoot> roots(List<AuditEvent> events, int blockSize) {
    var out = new ArrayList<BlockRoot>();
    for (int b = 0; (b + 1) * blockSize <= events.size(); b++) {
      out.add(AuditChain.blockRoot(b, blockSize,
          events.subList(b * blockSize, (b + 1) * blockSize).stream().map(AuditEvent::hash).toList()));
    }
    return out;
  }

  /** {@code e} with one field replaced, keeping its stored hash (what a tamperer without the chain does). */
  static AuditEvent withTenant(AuditEvent e, String tenant) {
    return new AuditEvent(e.seq(), e.timeEpochMs(), tenant, e.actor(), e.action(), e.target(), e.outcome(), e.reason(),
        e.details(), e.prevHash(), e.hash());
  }
}
