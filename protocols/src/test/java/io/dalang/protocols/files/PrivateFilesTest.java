package io.dalang.protocols.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrivateFilesTest {
  @TempDir Path tmp;

  static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void createsFoldersAndFilesOwnerOnly() throws Exception {
    Path dir = tmp.resolve("a").resolve("b");
    PrivateFiles.createDirectories(dir);
    assertEquals("rwx------", mode(tmp.resolve("a")));
    assertEquals("rwx------", mode(dir));
    PrivateFiles.createNew(dir.resolve("k"), "x".getBytes(StandardCharsets.UTF_8));
    assertEquals("rw-------", mode(dir.resolve("k")));
    assertThrows(FileAlreadyExistsException.class, () -> PrivateFiles.createNew(dir.resolve("k"), new byte[0]));
    try (var w = PrivateFiles.appender(dir.resolve("log"))) {
      w.write("one\n");
    }
    try (var w = PrivateFiles.appender(dir.resolve("log"))) {
      w.write("two\n");
    }
    assertEquals("one\ntwo\n", Files.readString(dir.resolve("log")));
    assertEquals("rw-------", mode(dir.resolve("log")));
  }

  @Test
  void tightenTakesGroupAndOthersAwayAndCountsWhatChanged() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("data").resolve("db"));
    Files.setPosixFilePermissions(tmp.resolve("data"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    Path f = Files.writeString(dir.resolve("dalang.mv.db"), "x");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    Path own = Files.writeString(tmp.resolve("data").resolve("node.id"), "x");
    Files.setPosixFilePermissions(own, PrivateFiles.FILE);

    assertEquals(3, PrivateFiles.tighten(tmp.resolve("data")));
    assertEquals("rwx------", mode(tmp.resolve("data")));
    assertEquals("rwx------", mode(dir));
    assertEquals("rw-------", mode(f));
    assertEquals(0, PrivateFiles.tighten(tmp.resolve("data")), "nothing left to change");
  }
}
