package io.dalang.runtime.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dalang.protocols.files.PrivateFiles;
import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.EmbeddedJournal;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import org.h2.api.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The embedded journal of a data dir written by an earlier version (empty password) gets a random
 * password on the next start and still opens; {@code dalang.metrics.auth = operator} keeps /metrics
 * from callers without a platform key ({@code none}, the default, is in ServeEndToEndTest).
 */
class HostHardeningTest {
  static final String KEY = "hh-" + Long.toHexString(System.nanoTime());

  @Test
  void aLegacyJournalGetsARandomPasswordAndMetricsNeedAnOperatorKey(@TempDir Path tmp) throws Exception {
    Path data = tmp.resolve("data");
    String plain = "jdbc:h2:file:" + data.resolve("db").resolve("dalang");
    try (var c = DriverManager.getConnection(plain, "dalang", ""); var st = c.createStatement()) {
      st.execute("CREATE TABLE left_by_an_earlier_version(x INT)"); // as every earlier data dir: user dalang, empty password
    }
    Path conf = Files.writeString(tmp.resolve("metrics.conf"), "dalang.metrics.auth = operator\n");
    try (var node = DalangNode.start(new ServeOptions(data, 0, 0, 0, conf, null, KEY), System.out)) {
      var api = new ApiClient(node.httpPort(), KEY);
      api.awaitReady(Duration.ofSeconds(90));
      assertEquals(401, api.withKey(null).get("/metrics").statusCode());
      assertEquals(401, api.withKey("not-a-key").get("/metrics").statusCode());
      assertEquals(403, api.get("/metrics").statusCode(), "a tenant-admin key is no operator key");
      var admin = api.withKey(Files.readString(data.resolve("admin.key")).strip());
      var metrics = admin.get("/metrics");
      assertEquals(200, metrics.statusCode());
      assertEquals(true, metrics.body().contains("dalang_slots"), metrics.body());
    }
    Path passwordFile = EmbeddedJournal.passwordFile(data);
    assertEquals(PosixFilePermissions.toString(PrivateFiles.FILE), PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile)));
    var refused = assertThrows(SQLException.class, () -> DriverManager.getConnection(plain, "dalang", "").close());
    assertEquals(ErrorCode.WRONG_USER_OR_PASSWORD, refused.getErrorCode(), "the empty password no longer opens it");
    try (var c = DriverManager.getConnection(plain, "dalang", Files.readString(passwordFile).strip()); var st = c.createStatement();
         var rs = st.executeQuery("SELECT COUNT(*) FROM left_by_an_earlier_version")) {
      rs.next();
      assertEquals(0, rs.getInt(1), "the same database, migrated in place");
    }
    // A second start opens it with the password it keeps.
    try (var node = DalangNode.start(new ServeOptions(data, 0, 0, 0, conf, null, KEY), System.out)) {
      new ApiClient(node.httpPort(), KEY).awaitReady(Duration.ofSeconds(90));
    }
  }
}
