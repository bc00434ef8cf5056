package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import io.dalang.actors.audit.AuditStore;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Dalang's own journal migration on H2: a new database, a second start, and a database an earlier version made with SchemaUtils. */
class JournalSchemaTest {
  @TempDir Path dir;

  private Connection connect() throws SQLException {
    return DriverManager.getConnection("jdbc:h2:file:" + dir.resolve("db"), "dalang", "");
  }

  @Test
  void createsEveryTableOnAnEmptyDatabaseAndRecordsTheVersion() throws Exception {
    try (var c = connect()) {
      assertEquals(0, JournalSchema.migrate(c));
      assertEquals(JournalSchema.LATEST, JournalSchema.current(c));
      for (String t : List.of("\"event_journal\"", "\"event_tag\"", "\"snapshot\"", "\"durable_state\"", "dalang_audit_event",
          "dalang_audit_root", "dalang_audit_prune")) {
        assertEquals(0, count(c, t), t);
      }
    }
  }

  @Test
  void aSecondRunAppliesNothing() throws Exception {
    try (var c = connect()) {
      JournalSchema.migrate(c);
      assertEquals(JournalSchema.LATEST, JournalSchema.migrate(c));
      assertEquals(JournalSchema.LATEST, count(c, JournalSchema.VERSION_TABLE));
    }
  }

  @Test
  void refusesADatabaseNewerThanThisBuild() throws Exception {
    try (var c = connect()) {
      JournalSchema.migrate(c);
      try (var st = c.createStatement()) {
        st.execute("INSERT INTO " + JournalSchema.VERSION_TABLE + " VALUES (" + (JournalSchema.LATEST + 1) + ", 'from the future', 0)");
      }
      assertThrows(IllegalStateException.class, () -> JournalSchema.migrate(c));
    }
  }

  @Test
  void adoptsADatabaseThatSchemaUtilsCreatedWithItsRowsIntact() throws Exception {
    // The old way: persistence-jdbc's SchemaUtils on a node's configuration, and the audit store's own tables.
    Config config = EmbeddedJournal.prepare(DalangNode.config(new ServeOptions(dir.resolve("data"), 0, 0, 0, null, null, null)));
    var system = ActorSystem.create(Behaviors.empty(), "old-schema", config);
    try {
      SchemaUtils.createIfNotExists(system).toCompletableFuture().get(60, TimeUnit.SECONDS);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    AuditStore.fromConfig(config).createTablesIfMissing();
    byte[] payload = {1, 2, 3, 42};
    try (var c = EmbeddedJournal.connect(config)) {
      try (var st = c.prepareStatement("INSERT INTO \"event_journal\" (\"persistence_id\", \"sequence_number\", \"writer\", \"write_timestamp\", "
          + "\"adapter_manifest\", \"event_payload\", \"event_ser_id\", \"event_ser_manifest\") VALUES ('Tenant|demo', 1, 'w', 0, '', ?, 33, 'M')")) {
        st.setBytes(1, payload);
        st.executeUpdate();
      }
      try (var st = c.createStatement()) {
        st.execute("INSERT INTO \"snapshot\" VALUES ('Tenant|demo', 1, 0, 33, 'S', X'0102', NULL, NULL, NULL)");
        st.execute("INSERT INTO dalang_audit_root VALUES (0, 0, 9, 'root')");
      }

      assertEquals(0, JournalSchema.migrate(c), "no version table yet");

      assertEquals(JournalSchema.LATEST, JournalSchema.current(c));
      assertEquals(1, count(c, "\"event_journal\""));
      assertEquals(1, count(c, "\"snapshot\""));
      assertEquals(1, count(c, "dalang_audit_root"));
      try (var st = c.createStatement(); var rs = st.executeQuery("SELECT \"event_payload\" FROM \"event_journal\" WHERE \"persistence_id\" = 'Tenant|demo'")) {
        rs.next();
        assertArrayEquals(payload, rs.getBytes(1));
      }
    }
  }

  @Test
  void scriptsSplitIntoStatementsWithoutTheirComments() {
    assertEquals(List.of("CREATE TABLE a (x INT)", "CREATE INDEX i ON a (x)"),
        JournalSchema.statements("-- a comment; with a semicolon\nCREATE TABLE a (x INT);\n\nCREATE INDEX i ON a (x);\n"));
  }

  static int count(Connection c, String table) throws SQLException {
    try (var st = c.createStatement(); var rs = st.executeQuery("SELECT COUNT(*) FROM " + table)) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
