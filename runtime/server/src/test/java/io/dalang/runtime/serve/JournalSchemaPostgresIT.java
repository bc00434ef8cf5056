package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The journal migration on PostgreSQL: control nodes that start together apply it once, and a database
 * that SchemaUtils created (its tables, no version table) is adopted with its rows. Runs only when
 * {@code DALANG_TEST_POSTGRES_URL} names a database the test may wipe (see {@link PostgresJournalIT}).
 */
class JournalSchemaPostgresIT {
  static final List<String> TABLES = List.of("event_tag", "event_journal", "snapshot", "durable_state", "dalang_audit_event",
      "dalang_audit_root", "dalang_audit_prune", JournalSchema.VERSION_TABLE);

  private static String url() {
    String url = System.getenv("DALANG_TEST_POSTGRES_URL");
    assumeTrue(url != null && !url.isBlank(), "DALANG_TEST_POSTGRES_URL is not set");
    return url;
  }

  private static void dropAll(String url) throws Exception {
    try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
      for (String t : TABLES) st.execute("DROP TABLE IF EXISTS public." + t + " CASCADE");
    }
  }

  @Test
  void controlNodesStartingTogetherApplyTheMigrationOnce() throws Exception {
    String url = url();
    dropAll(url);
    var pool = Executors.newFixedThreadPool(4);
    try {
      var results = new ArrayList<Future<Integer>>();
      for (int i = 0; i < 4; i++) {
        results.add(pool.submit((Callable<Integer>) () -> {
          try (Connection c = DriverManager.getConnection(url)) {
            return JournalSchema.migrate(c);
          }
        }));
      }
      int fresh = 0;
      for (var r : results) {
        if (r.get() == 0) fresh++;
      }
      assertEquals(1, fresh, "one start migrated; the others found the version recorded");
    } finally {
      pool.shutdown();
    }
    try (var c = DriverManager.getConnection(url)) {
      assertEquals(JournalSchema.LATEST, JournalSchema.current(c));
      assertEquals(JournalSchema.LATEST, JournalSchemaTest.count(c, JournalSchema.VERSION_TABLE));
    }
  }

  @Test
  void adoptsTablesThatSchemaUtilsCreatedWithTheirRows() throws Exception {
    String url = url();
    dropAll(url);
    // What SchemaUtils ran on PostgreSQL: persistence-jdbc's own script, statement by statement, outside a transaction.
    String shipped;
    try (var in = org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils.class.getClassLoader()
        .getResourceAsStream("schema/postgres/postgres-create-schema.sql")) {
      shipped = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
    try (var c = DriverManager.getConnection(url); var st = c.createStatement()) {
      for (String sql : JournalSchema.statements(shipped)) st.execute(sql);
      st.execute("INSERT INTO event_journal (persistence_id, sequence_number, writer, event_ser_id, event_ser_manifest, event_payload) "
          + "VALUES ('Tenant|demo', 1, 'w', 33, 'M', '\\x0102'::bytea)");
    }
    try (var c = DriverManager.getConnection(url)) {
      assertEquals(0, JournalSchema.migrate(c));
      assertEquals(JournalSchema.LATEST, JournalSchema.current(c));
      assertEquals(1, JournalSchemaTest.count(c, "event_journal"));
    }
  }
}
