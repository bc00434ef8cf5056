package io.dalang.runtime.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.dalang.protocols.files.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Base64;
import java.util.Map;
import org.h2.api.ErrorCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single control node's journal: an H2 file under {@code <data-dir>/db} that only the serving
 * process opens. No {@code AUTO_SERVER} (that listened on every interface for any local user who could
 * read the lock file), a random password kept in {@code db/dalang.password} (0600), and
 * {@code DB_CLOSE_ON_EXIT=FALSE}: the journal closes with the actor system, after the entities' last
 * events, not in H2's own JVM shutdown hook. Other processes ({@code dalang status}, {@code dalang audit})
 * open the file read-only while no node holds it, and go through the node's admin API while one does.
 *
 * <p>Used only where the operator left {@code ….slick.db.url} and {@code password} empty; a database
 * of their own (PostgreSQL, an H2 server) is theirs to secure.
 */
public final class EmbeddedJournal {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedJournal.class);
  static final String DB = "pekko-persistence-jdbc.shared-databases.slick.db";
  /** Earlier versions created the database with an empty password. */
  private static final String LEGACY_PASSWORD = "";

  private EmbeddedJournal() {}

  /** The URL the serving node opens. WRITE_DELAY=0: see {@link DalangNode#config(ServeOptions)}. */
  static String url(Path dataDir) {
    return location(dataDir) + ";WRITE_DELAY=0;DB_CLOSE_ON_EXIT=FALSE";
  }

  /** Read-only, and never creating a database: fails with {@link #heldByAnotherProcess} while a node holds the file. */
  static String readerUrl(Path dataDir) {
    return location(dataDir) + ";ACCESS_MODE_DATA=r;IFEXISTS=TRUE";
  }

  private static String location(Path dataDir) {
    return "jdbc:h2:file:" + dataDir.resolve("db").resolve("dalang");
  }

  public static Path passwordFile(Path dataDir) {
    return dataDir.resolve("db").resolve("dalang.password");
  }

  private static Path databaseFile(Path dataDir) {
    return dataDir.resolve("db").resolve("dalang.mv.db");
  }

  /** Whether {@code e} says that another process has the database open (H2's file lock). */
  public static boolean heldByAnotherProcess(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s && s.getErrorCode() == ErrorCode.DATABASE_ALREADY_OPEN_1) return true;
    }
    return false;
  }

  private static boolean embedded(Config c) {
    return c.getString(DB + ".url").equals(url(Path.of(c.getString("dalang.data-dir"))));
  }

  /**
   * For {@code serve}: {@code c} with the journal's password, created on the first start (a database of
   * an earlier version, which had the empty password, gets the new one now); {@code c} unchanged where
   * the operator chose the database or its password.
   */
  static Config prepare(Config c) throws IOException, SQLException {
    if (!embedded(c) || !c.getString(DB + ".password").isEmpty()) return c;
    Path dataDir = Path.of(c.getString("dalang.data-dir"));
    String password = ensurePassword(dataDir, c.getString(DB + ".user"));
    return ConfigFactory.parseMap(Map.of(DB + ".password", password)).withFallback(c);
  }

  /** For other processes: {@code c} with the read-only URL and the password file's password, where serve's journal is the embedded one. */
  public static Config forReader(Config c) throws IOException {
    if (!embedded(c) || !c.getString(DB + ".password").isEmpty()) return c;
    Path dataDir = Path.of(c.getString("dalang.data-dir"));
    Path f = passwordFile(dataDir);
    String password = Files.isRegularFile(f) ? Files.readString(f, StandardCharsets.UTF_8).strip() : LEGACY_PASSWORD;
    return ConfigFactory.parseMap(Map.of(DB + ".url", readerUrl(dataDir), DB + ".password", password)).withFallback(c);
  }

  /** A connection with {@code c}'s database settings. */
  public static Connection connect(Config c) throws SQLException {
    return DriverManager.getConnection(c.getString(DB + ".url"), c.getString(DB + ".user"), c.getString(DB + ".password"));
  }

  /**
   * The password in {@code db/dalang.password}, created if missing; a database that still has the empty
   * password gets it. The file is written before the database changes, so a crash in between leaves a
   * state the next start repairs the same way.
   */
  static String ensurePassword(Path dataDir, String user) throws IOException, SQLException {
    PrivateFiles.createDirectories(dataDir.resolve("db"));
    Path f = passwordFile(dataDir);
    if (!Files.isRegularFile(f)) PrivateFiles.createNew(f, (newPassword() + "\n").getBytes(StandardCharsets.US_ASCII));
    String password = Files.readString(f, StandardCharsets.US_ASCII).strip();
    if (!Files.exists(databaseFile(dataDir))) return password; // H2 creates the database with it
    String url = url(dataDir);
    try (Connection ignored = DriverManager.getConnection(url, user, password)) {
      return password;
    } catch (SQLException e) {
      if (e.getErrorCode() != ErrorCode.WRONG_USER_OR_PASSWORD) throw e;
    }
    try (Connection c = DriverManager.getConnection(url, user, LEGACY_PASSWORD); var st = c.createStatement()) {
      st.execute("ALTER USER " + identifier(user) + " SET PASSWORD '" + password + "'");
    }
    log.info("journal: the database had the empty password of earlier versions; it now has a random one, kept in {} (0600)", f);
    return password;
  }

  private static String newPassword() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b); // letters, digits, '-' and '_': safe in SQL quotes
  }

  private static String identifier(String user) {
    if (!user.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw new IllegalArgumentException("the journal's user '" + user + "' is not a plain SQL name; set DALANG_JDBC_PASSWORD yourself");
    }
    return user;
  }
}
