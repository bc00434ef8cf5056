package io.dalang.runtime.serve;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The journal database's schema, Dalang's own migration step: the tables of pekko-persistence-jdbc and
 * of the audit ledger, at the version this build expects, recorded in {@code dalang_schema_version}. A
 * control node runs {@link #migrate} once at start, before anything uses the journal.
 *
 * <p>Migration {@code n} is the script {@code schema/<dialect>/V<n>.sql} beside this class, one per
 * dialect (H2, PostgreSQL). Version 1 is persistence-jdbc 1.1.1's own schema, written with
 * {@code IF NOT EXISTS} throughout: a database that earlier versions created with persistence-jdbc's
 * test-kit {@code SchemaUtils} (no version table) is adopted as version 1 without touching its rows.
 *
 * <p>The scripts and the version rows go in one transaction. On PostgreSQL (transactional DDL) it is
 * all or nothing, and a transaction-scoped advisory lock makes control nodes that start together run it
 * one after the other: the second finds the version recorded and applies nothing. H2 commits each DDL
 * statement as it runs; its scripts are idempotent, so a start that failed half way is finished by the next.
 */
public final class JournalSchema {
  private static final Logger log = LoggerFactory.getLogger(JournalSchema.class);

  static final String VERSION_TABLE = "dalang_schema_version";

  /** What each version adds, in order: version {@code i + 1} is {@code MIGRATIONS.get(i)}. */
  static final List<String> MIGRATIONS = List.of(
      "pekko-persistence-jdbc 1.1.1 journal, tags, snapshots and durable state; the audit ledger");

  /** The newest version this build knows. */
  public static final int LATEST = MIGRATIONS.size();

  /** Key of PostgreSQL's advisory lock for the migration: "dalang" in ASCII. */
  private static final long ADVISORY_LOCK = 0x64616c616e67L;

  /** The SQL dialects with scripts, by JDBC URL prefix. */
  enum Dialect {
    H2("jdbc:h2:", "h2"),
    POSTGRES("jdbc:postgresql:", "postgres");

    private final String urlPrefix;
    private final String folder;

    Dialect(String urlPrefix, String folder) {
      this.urlPrefix = urlPrefix;
      this.folder = folder;
    }

    static Dialect of(String url) {
      for (Dialect d : values()) {
        if (url.startsWith(d.urlPrefix)) return d;
      }
      throw new IllegalArgumentException("the journal database " + url + " is neither H2 nor PostgreSQL: Dalang has no schema scripts for it");
    }
  }

  private JournalSchema() {}

  /**
   * Brings the database behind {@code c} to {@link #LATEST} and returns the version it was at (0: no
   * version table). Fails if the database is newer than this build.
   */
  public static int migrate(Connection c) throws SQLException {
    Dialect dialect = Dialect.of(c.getMetaData().getURL());
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      if (dialect == Dialect.POSTGRES) {
        try (var st = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
          st.setLong(1, ADVISORY_LOCK);
          st.execute();
        }
      }
      boolean adopting = !hasVersionTable(c) && hasTable(c, "event_journal");
      execute(c, "CREATE TABLE IF NOT EXISTS " + VERSION_TABLE
          + " (version INTEGER NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL, applied_at_epoch_ms BIGINT NOT NULL)");
      int current = current(c);
      if (current > LATEST) {
        throw new IllegalStateException("the journal database is at schema version " + current + ", newer than this Dalang knows ("
            + LATEST + "): run the newer version, or restore a backup");
      }
      for (int v = current + 1; v <= LATEST; v++) {
        for (String sql : statements(script(dialect, v))) execute(c, sql);
        try (var st = c.prepareStatement("INSERT INTO " + VERSION_TABLE + " (version, description, applied_at_epoch_ms) VALUES (?, ?, ?)")) {
          st.setInt(1, v);
          st.setString(2, MIGRATIONS.get(v - 1));
          st.setLong(3, System.currentTimeMillis());
          st.executeUpdate();
        }
      }
      c.commit();
      if (adopting) log.info("journal schema: adopted the tables of an earlier version as version 1");
      if (current < LATEST) log.info("journal schema: version {} -> {}", current, LATEST);
      return current;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  /** The version recorded in {@code c}'s version table, 0 if it has no rows. */
  static int current(Connection c) throws SQLException {
    try (var st = c.createStatement(); var rs = st.executeQuery("SELECT MAX(version) FROM " + VERSION_TABLE)) {
      return rs.next() ? rs.getInt(1) : 0; // MAX of no rows is NULL, read as 0
    }
  }

  private static boolean hasVersionTable(Connection c) throws SQLException {
    return hasTable(c, VERSION_TABLE);
  }

  /** Whether a table of that name exists, in whatever case the database folded it to. */
  private static boolean hasTable(Connection c, String name) throws SQLException {
    var meta = c.getMetaData();
    for (String n : List.of(name, name.toUpperCase(java.util.Locale.ROOT))) {
      try (var rs = meta.getTables(null, null, n, new String[] {"TABLE"})) {
        if (rs.next()) return true;
      }
    }
    return false;
  }

  private static void execute(Connection c, String sql) throws SQLException {
    try (var st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** The text of migration {@code version} for {@code dialect}. */
  static String script(Dialect dialect, int version) {
    String name = "schema/" + dialect.folder + "/V" + version + ".sql";
    try (InputStream in = JournalSchema.class.getResourceAsStream(name)) {
      if (in == null) throw new IllegalStateException("missing schema script " + name + " beside " + JournalSchema.class.getName());
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The statements of {@code script}: comment lines dropped, split on {@code ;}. */
  static List<String> statements(String script) {
    String code = script.lines().filter(l -> !l.strip().startsWith("--")).collect(Collectors.joining("\n"));
    return Arrays.stream(code.split(";")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }
}
