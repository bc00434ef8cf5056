package io.dalang.actors.audit;

import com.typesafe.config.Config;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Predicate;

/**
 * The audit ledger's tables, in the same database as the Pekko journal (embedded H2 by default), over
 * plain JDBC: {@code dalang_audit_event} (one row per event: its fields as columns for queries, its
 * canonical JSON and its hashes), {@code dalang_audit_root} (one row per full block) and
 * {@code dalang_audit_prune} (one row per pruning by retention; the latest is the checkpoint the
 * remaining chain starts from). Plain SQL that H2 and PostgreSQL both accept; created if missing.
 *
 * <p>Every call opens its own connection, so the store may be used from any thread and by another
 * process ({@code dalang audit verify} while {@code dalang serve} runs, through H2's automatic mixed
 * mode). Only {@link AuditActor} appends; everyone else reads. Failures throw
 * {@link AuditStoreException}.
 */
public final class AuditStore {
  static final String EVENT_TABLE = "dalang_audit_event";
  static final String ROOT_TABLE = "dalang_audit_root";
  static final String PRUNE_TABLE = "dalang_audit_prune";

  private static final List<String> SCHEMA = List.of(
      "CREATE TABLE IF NOT EXISTS " + EVENT_TABLE + " ("
          + "seq BIGINT NOT NULL PRIMARY KEY, "
          + "time_epoch_ms BIGINT NOT NULL, "
          + "tenant VARCHAR NOT NULL, "
          + "actor VARCHAR NOT NULL, "
          + "action VARCHAR NOT NULL, "
          + "target VARCHAR NOT NULL, "
          + "outcome VARCHAR NOT NULL, "
          + "reason VARCHAR NOT NULL, "
          + "details_json VARCHAR NOT NULL, "
          + "canonical_json VARCHAR NOT NULL, "
          + "prev_hash VARCHAR(64) NOT NULL, "
          + "hash VARCHAR(64) NOT NULL)",
      "CREATE INDEX IF NOT EXISTS dalang_audit_event_tenant_idx ON " + EVENT_TABLE + " (tenant, seq)",
      "CREATE INDEX IF NOT EXISTS dalang_audit_event_time_idx ON " + EVENT_TABLE + " (time_epoch_ms)",
      "CREATE TABLE IF NOT EXISTS " + ROOT_TABLE + " ("
          + "block_no BIGINT NOT NULL PRIMARY KEY, "
          + "first_seq BIGINT NOT NULL, "
          + "last_seq BIGINT NOT NULL, "
          + "root VARCHAR(64) NOT NULL)",
      "CREATE TABLE IF NOT EXISTS " + PRUNE_TABLE + " ("
          + "through_seq BIGINT NOT NULL PRIMARY KEY, "
          + "through_hash VARCHAR(64) NOT NULL, "
          + "pruned_at_epoch_ms BIGINT NOT NULL)");

  private static final String COLUMNS =
      "seq, time_epoch_ms, tenant, actor, action, target, outcome, reason, details_json, canonical_json, prev_hash, hash";

  private final String url;
  private final String user;
  private final String password;

  public AuditStore(String url, String user, String password) {
    this.url = url;
    this.user = user;
    this.password = password;
  }

  /** The journal's database: {@code pekko-persistence-jdbc.shared-databases.slick.db.{url,user,password}}. */
  public static AuditStore fromConfig(Config config) {
    Config db = config.getConfig("pekko-persistence-jdbc.shared-databases.slick.db");
    String url = db.getString("url");
    if (url.isBlank()) {
      throw new IllegalArgumentException("pekko-persistence-jdbc.shared-databases.slick.db.url is empty: the audit store needs the journal's database");
    }
    return new AuditStore(url, db.getString("user"), db.getString("password"));
  }

  public String url() {
    return url;
  }

  /** Creates the tables and indexes if they are missing; safe to call on every start. */
  public void createTablesIfMissing() {
    run("create the audit tables", c -> {
      try (var st = c.createStatement()) {
        for (String sql : SCHEMA) st.execute(sql);
      }
      return null;
    });
  }

  /** The last event's seq and hash; {@link AuditChain.Head#GENESIS} for an empty ledger. */
  public AuditChain.Head head() {
    return read("read the head of the audit chain", Snapshot::head);
  }

  /**
   * The block size the stored chain was written with (the size of block 0's root), if it has a full
   * block yet. A chain keeps its block size for good, whatever the configuration says later.
   */
  public OptionalInt chainBlockSize() {
    return read("read the audit block size", Snapshot::chainBlockSize);
  }

  /** The hashes of events {@code fromSeq} .. head, in seq order (the writer's partial block on start). */
  List<String> hashesFrom(long fromSeq) {
    return run("read audit hashes from seq " + fromSeq, c -> {
      try (var st = c.prepareStatement("SELECT hash FROM " + EVENT_TABLE + " WHERE seq >= ? ORDER BY seq")) {
        st.setLong(1, fromSeq);
        var out = new ArrayList<String>();
        try (var rs = st.executeQuery()) {
          while (rs.next()) out.add(rs.getString(1));
        }
        return out;
      }
    });
  }

  /** Appends events (and the roots of the blocks they fill) in one transaction: all or nothing. */
  public void append(List<AuditEvent> events, List<BlockRoot> roots) {
    appendAndPrune(events, roots, null);
  }

  /**
   * Appends events and roots and, if {@code pruneThrough} is not null, in the same transaction deletes
   * the events up to it and records it as the new checkpoint. Blocks' roots are never deleted.
   */
  public void appendAndPrune(List<AuditEvent> events, List<BlockRoot> roots, AuditChain.Head pruneThrough) {
    if (events.isEmpty()) return;
    String what = "append audit events " + events.get(0).seq() + ".." + events.get(events.size() - 1).seq()
        + (pruneThrough != null ? " and prune through seq " + pruneThrough.seq() : "");
    run(what, c -> {
      c.setAutoCommit(false);
      try (var ev = c.prepareStatement("INSERT INTO " + EVENT_TABLE + " (" + COLUMNS + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
           var rt = c.prepareStatement("INSERT INTO " + ROOT_TABLE + " (block_no, first_seq, last_seq, root) VALUES (?,?,?,?)")) {
        for (AuditEvent e : events) {
          bind(ev, e);
          ev.addBatch();
        }
        ev.executeBatch();
        for (BlockRoot r : roots) {
          rt.setLong(1, r.block());
          rt.setLong(2, r.firstSeq());
          rt.setLong(3, r.lastSeq());
          rt.setString(4, r.root());
          rt.addBatch();
        }
        if (!roots.isEmpty()) rt.executeBatch();
        if (pruneThrough != null) prune(c, pruneThrough, events.get(events.size() - 1).timeEpochMs());
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
      return null;
    });
  }

  private static void prune(Connection c, AuditChain.Head through, long atEpochMs) throws SQLException {
    try (var cp = c.prepareStatement("INSERT INTO " + PRUNE_TABLE + " (through_seq, through_hash, pruned_at_epoch_ms) VALUES (?,?,?)");
         var del = c.prepareStatement("DELETE FROM " + EVENT_TABLE + " WHERE seq <= ?")) {
      cp.setLong(1, through.seq());
      cp.setString(2, through.hash());
      cp.setLong(3, atEpochMs);
      cp.executeUpdate();
      del.setLong(1, through.seq());
      del.executeUpdate();
    }
  }

  /** Where the remaining chain starts: the last pruned event, or {@link AuditChain.Head#GENESIS}. */
  public AuditChain.Head checkpoint() {
    return read("read the audit checkpoint", Snapshot::checkpoint);
  }

  /**
   * The last event of the newest full block whose last event is older than {@code cutoffEpochMs}: how
   * far retention may prune now (whole blocks only, so their roots stay checkable against old exports).
   */
  Optional<AuditChain.Head> pruneCandidate(long cutoffEpochMs) {
    return run("find audit events to prune", c -> {
      try (var st = c.prepareStatement("SELECT e.seq, e.hash FROM " + ROOT_TABLE + " r JOIN " + EVENT_TABLE
          + " e ON e.seq = r.last_seq WHERE e.time_epoch_ms < ? ORDER BY e.seq DESC LIMIT 1")) {
        st.setLong(1, cutoffEpochMs);
        try (var rs = st.executeQuery()) {
          return rs.next() ? Optional.of(new AuditChain.Head(rs.getLong(1), rs.getString(2))) : Optional.empty();
        }
      }
    });
  }

  /** The events the filter selects, in seq order, as stored (not verified: {@link #verify} does that). */
  public List<AuditEvent> query(AuditFilter filter) {
    return read("query audit events", snap -> {
      var out = new ArrayList<AuditEvent>();
      snap.forEachRow(filter, Long.MAX_VALUE, row -> {
        if (row.event() == null) {
          throw new AuditStoreException("audit event " + row.seq() + " in " + url + " is unreadable (" + row.unreadable()
              + "); run `dalang audit verify`", null);
        }
        out.add(row.event());
        return true;
      });
      return out;
    });
  }

  /** The stored roots of blocks that end at or before {@code maxSeq}, in block order. */
  public List<BlockRoot> roots(long maxSeq) {
    return read("read the audit block roots", snap -> snap.roots(maxSeq));
  }

  /**
   * One stored row: the event its columns describe, the canonical JSON stored beside it, or why the row
   * cannot be read as an event at all ({@code event} is null then).
   */
  record Row(long seq, AuditEvent event, String storedCanonical, String unreadable) {}

  /**
   * Walks the whole stored chain up to its head, from its checkpoint if it was pruned: every hash, every
   * link, every row's stored canonical JSON against its columns, every block root, and the checkpoint
   * against the latest audit.prune event. {@code configuredBlockSize} applies only while the chain has
   * no full block yet.
   */
  public VerifyResult verify(int configuredBlockSize) {
    return read("verify the audit chain", snap -> {
      long head = snap.head().seq();
      var verifier = new AuditChain.Verifier(snap.chainBlockSize().orElse(configuredBlockSize), snap.checkpoint());
      snap.roots(head).forEach(verifier::root);
      snap.forEachRow(AuditFilter.ALL, head, row -> {
        if (row.event() == null) {
          verifier.breakAt(row.seq(), "the stored row cannot be read as an event: " + row.unreadable());
          return false;
        }
        return verifier.event(row.event(), row.storedCanonical());
      });
      return verifier.finish();
    });
  }

  /**
   * Runs {@code walk} on one consistent view of the tables (one read-only transaction): a writer
   * appending or pruning meanwhile is not seen half-way.
   */
  <T> T read(String what, SnapshotWork<T> walk) {
    return run(what, c -> {
      c.setAutoCommit(false);
      c.setReadOnly(true);
      // SERIALIZABLE: a snapshot of all tables as of the first read, in H2 (whose REPEATABLE READ is per
      // table) as in PostgreSQL. A read-only transaction takes no locks.
      c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
      try {
        return walk.on(new Snapshot(c));
      } finally {
        c.rollback();
      }
    });
  }

  /** What a walk does with a {@link Snapshot}. */
  interface SnapshotWork<T> {
    T on(Snapshot snapshot) throws SQLException;
  }

  /** The tables as one read transaction sees them. */
  static final class Snapshot {
    private final Connection c;

    private Snapshot(Connection c) {
      this.c = c;
    }

    public AuditChain.Head head() throws SQLException {
      try (var st = c.prepareStatement("SELECT seq, hash FROM " + EVENT_TABLE + " ORDER BY seq DESC LIMIT 1");
           var rs = st.executeQuery()) {
        return rs.next() ? new AuditChain.Head(rs.getLong(1), rs.getString(2)) : checkpoint();
      }
    }

    public AuditChain.Head checkpoint() throws SQLException {
      try (var st = c.prepareStatement("SELECT through_seq, through_hash FROM " + PRUNE_TABLE + " ORDER BY through_seq DESC LIMIT 1");
           var rs = st.executeQuery()) {
        return rs.next() ? new AuditChain.Head(rs.getLong(1), rs.getString(2)) : AuditChain.Head.GENESIS;
      }
    }

    public OptionalInt chainBlockSize() throws SQLException {
      try (var st = c.prepareStatement("SELECT first_seq, last_seq FROM " + ROOT_TABLE + " WHERE block_no = 0");
           var rs = st.executeQuery()) {
        return rs.next() ? OptionalInt.of((int) (rs.getLong(2) - rs.getLong(1) + 1)) : OptionalInt.empty();
      }
    }

    public List<BlockRoot> roots(long maxSeq) throws SQLException {
      try (var st = c.prepareStatement("SELECT block_no, first_seq, last_seq, root FROM " + ROOT_TABLE
          + " WHERE last_seq <= ? ORDER BY block_no")) {
        st.setLong(1, maxSeq);
        var out = new ArrayList<BlockRoot>();
        try (var rs = st.executeQuery()) {
          while (rs.next()) out.add(new BlockRoot(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getString(4)));
        }
        return out;
      }
    }

    /**
     * Streams the rows the filter selects with {@code seq <= maxSeq}, in seq order, while {@code sink}
     * returns true. Unreadable rows (e.g. details that are no longer JSON) are passed on, not thrown.
     */
    public void forEachRow(AuditFilter filter, long maxSeq, Predicate<Row> sink) throws SQLException {
      var where = new StringBuilder(" WHERE seq > ? AND seq <= ?");
      var args = new ArrayList<Object>(List.of(filter.afterSeq(), maxSeq));
      condition(where, args, "tenant = ?", filter.tenant());
      condition(where, args, "actor = ?", filter.actor());
      condition(where, args, "action = ?", filter.action());
      condition(where, args, "outcome = ?", filter.outcome() == null ? null : filter.outcome().wire());
      condition(where, args, "time_epoch_ms >= ?", filter.sinceEpochMs());
      condition(where, args, "time_epoch_ms < ?", filter.untilEpochMs());
      String sql = "SELECT " + COLUMNS + " FROM " + EVENT_TABLE + where + " ORDER BY seq"
          + (filter.limit() > 0 ? " LIMIT " + filter.limit() : "");
      try (var st = c.prepareStatement(sql)) {
        for (int i = 0; i < args.size(); i++) st.setObject(i + 1, args.get(i));
        st.setFetchSize(512);
        try (var rs = st.executeQuery()) {
          while (rs.next()) {
            if (!sink.test(row(rs))) break;
          }
        }
      }
    }
  }

  private static void condition(StringBuilder where, List<Object> args, String sql, Object value) {
    if (value == null) return;
    where.append(" AND ").append(sql);
    args.add(value);
  }

  private static void bind(PreparedStatement st, AuditEvent e) throws SQLException {
    st.setLong(1, e.seq());
    st.setLong(2, e.timeEpochMs());
    st.setString(3, e.tenant());
    st.setString(4, e.actor());
    st.setString(5, e.action());
    st.setString(6, e.target());
    st.setString(7, e.outcome());
    st.setString(8, e.reason());
    st.setString(9, e.detailsJson());
    st.setString(10, e.canonicalJson());
    st.setString(11, e.prevHash());
    st.setString(12, e.hash());
  }

  private static Row row(ResultSet rs) throws SQLException {
    long seq = rs.getLong(1);
    String canonical = rs.getString(10);
    try {
      var e = new AuditEvent(seq, rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
          rs.getString(7), rs.getString(8), AuditJson.stringMap(rs.getString(9), "details_json"), rs.getString(11),
          rs.getString(12));
      return new Row(seq, e, canonical, null);
    } catch (IllegalArgumentException e) {
      return new Row(seq, null, canonical, e.getMessage());
    }
  }

  private interface Work<T> {
    T on(Connection c) throws SQLException;
  }

  private <T> T run(String what, Work<T> work) {
    try (Connection c = DriverManager.getConnection(url, user, password)) {
      return work.on(c);
    } catch (SQLException e) {
      throw new AuditStoreException("cannot " + what + " in " + url + ": " + firstLine(e.getMessage()), e);
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
