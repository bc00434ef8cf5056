package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DigestsTest {

  @Test
  void aCachedDigestIsTheFilesDigestAndFollowsChangesToTheFile(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("model.gguf");
    Files.writeString(f, "first");
    assertEquals(Digests.sha256("first"), Digests.sha256Cached(f));
    assertEquals(Digests.sha256(f), Digests.sha256Cached(f));
    Files.writeString(f, "second!");
    Files.setLastModifiedTime(f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 2000));
    assertEquals(Digests.sha256("second!"), Digests.sha256Cached(f));
    assertNotEquals(Digests.sha256("first"), Digests.sha256Cached(f));
  }
}
