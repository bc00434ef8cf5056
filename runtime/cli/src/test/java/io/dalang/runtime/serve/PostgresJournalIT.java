package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dalang.runtime.testing.ApiClient;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal on PostgreSQL: the schema is created on the first start and the demo tenant and pool are
 * recovered on the second. Runs only when {@code DALANG_TEST_POSTGRES_URL} names a database the test
 * may wipe (e.g. {@code jdbc:postgresql://127.0.0.1:5432/dalang_test?user=dalang}; `.ci/run` starts Debian's PostgreSQL and sets it); skipped otherwise.
 * The audit ledger in the same database verifies with {@code dalang audit verify}.
 */
class PostgresJournalIT {
  @TempDir Path dir;

  @Test
  void createsTheSchemaOnFirstStartAndRecoversFromItOnTheNext() throws Exception {
    String url = System.getenv("DALANG_TEST_POSTGRES_URL");
    assumeTrue(url != null && !url.isBlank(), "DALANG_TEST_POSTGRES_URL is not set");
    Path conf = dir.resolve("pg.conf");
    Files.writeString(conf, "pekko-persistence-jdbc.shared-databases.slick.db.url = \"" + url + "\"\n");
    // The shipped schema script names the public schema: start from an empty one.
    try (var c = java.sql.DriverManager.getConnection(url); var st = c.createStatement()) {
      for (String t : new String[] {"event_tag", "event_journal", "snapshot", "durable_state", "dalang_audit_event",
          "dalang_audit_root", "dalang_audit_prune", JournalSchema.VERSION_TABLE}) {
        st.execute("DROP TABLE IF EXISTS public." + t + " CASCADE");
      }
    }
    String key = "pg-" + UUID.randomUUID();
    var quiet = new PrintStream(OutputStream.nullOutputStream());
    var options = new ServeOptions(dir.resolve("data"), 0, null, 0, conf, null, key);
    try (var node = DalangNode.start(options, quiet)) {
      var api = new ApiClient(node.httpPort(), key);
      api.awaitReady(Duration.ofSeconds(90));
      assertEquals(200, api.post("/v1/completions", "{\"model\": \"dalang-demo\", \"prompt\": \"Hi\", \"max_tokens\": 4}").statusCode());
    }
    try (var node = DalangNode.start(options, quiet)) {
      var api = new ApiClient(node.httpPort(), key);
      api.awaitReady(Duration.ofSeconds(90));
      assertEquals(200, api.get("/v1/models").statusCode(), "the demo key and tenant came back from the journal");
    }
    assertFalse(Files.exists(dir.resolve("data").resolve("db")), "no embedded H2 database beside PostgreSQL");
    // The audit ledger lives in the same database: its hash chain verifies there.
    var verify = io.dalang.runtime.testing.DalangCli.dalang("audit", "verify", "--data-dir", dir.resolve("data").toString(),
        "--config", conf.toString());
    assertEquals(0, verify.code(), verify.out() + verify.err());
    org.junit.jupiter.api.Assertions.assertTrue(verify.out().startsWith("OK: audit chain intact: "), verify.out());
  }
}
