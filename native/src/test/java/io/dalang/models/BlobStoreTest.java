package io.dalang.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dalang.engine.Digests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store on a real temp directory: layout, digest checks, corruption, LRU eviction and file modes. */
class BlobStoreTest {
  @TempDir Path dir;

  /** A clock the test moves by hand, so that uses are ordered without sleeping. */
  static final class ManualClock extends Clock {
    Instant now = Instant.parse("2025-01-01T00:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    void advanceSeconds(long s) {
      now = now.plusSeconds(s);
    }
  }

  private Path source(String name, byte[] bytes) throws Exception {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
    return b;
  }

  private static long count(Path d) throws Exception {
    try (Stream<Path> s = Files.list(d)) {
      return s.count();
    }
  }

  @Test
  void importedBlobIsFoundUnderItsDigest() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    byte[] data = bytes(100_000, 1);
    Path src = source("a.gguf", data);
    String sha = Digests.sha256(src);

    BlobStore.Stored stored = store.importFile(src, sha);

    assertEquals(sha, stored.sha256());
    assertEquals(data.length, stored.size());
    assertEquals(dir.resolve("store").resolve("sha256").resolve(sha), stored.path());
    assertEquals(stored.path(), store.pathOf(sha.toUpperCase()));
    assertTrue(store.contains(sha));
    assertEquals(stored.path(), store.find(sha).orElseThrow());
    assertArrayEquals(data, Files.readAllBytes(stored.path()));
    assertEquals(0, count(store.root().resolve("tmp")));
    assertEquals(List.of(new BlobStore.BlobInfo(sha, data.length, store.list().get(0).lastUsed())), store.list());
    assertEquals(data.length, store.usedBytes());
  }

  @Test
  void importWithoutExpectedDigestComputesItAndDoesNotCopyTwice() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    Path src = source("a.gguf", bytes(5000, 2));
    BlobStore.Stored first = store.importFile(src, null);
    BlobStore.Stored second = store.importFile(src, null);
    assertEquals(Digests.sha256(src), first.sha256());
    assertEquals(first, second);
    assertEquals(1, count(store.root().resolve("sha256")));
    assertEquals(0, count(store.root().resolve("tmp")));
  }

  @Test
  void importWithWrongDigestIsRefusedAndLeavesNothingBehind() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    Path src = source("a.gguf", bytes(5000, 3));
    String wrong = "ab".repeat(32);

    var e = assertThrows(BlobDigestMismatchException.class, () -> store.importFile(src, wrong));

    assertTrue(e.getMessage().contains("abababababab"), e.getMessage());
    assertTrue(e.getMessage().contains(Digests.sha256(src).substring(0, 12)), e.getMessage());
    assertEquals(0, count(store.root().resolve("sha256")));
    assertEquals(0, count(store.root().resolve("tmp")));
    assertFalse(store.contains(wrong));
  }

  @Test
  void pathOfRejectsAnythingButSixtyFourHexCharacters() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    for (String bad : new String[] {"", "abc", "g".repeat(64), "a".repeat(63), "a".repeat(65), "../" + "a".repeat(61)}) {
      assertThrows(IllegalArgumentException.class, () -> store.pathOf(bad), bad);
    }
    assertThrows(IllegalArgumentException.class, () -> store.pathOf(null));
    assertThrows(IllegalArgumentException.class, () -> store.partialFor("../etc"));
    assertEquals(store.root().resolve("partial").resolve("abc-123"), store.partialFor("abc-123"));
  }

  @Test
  void verifyDetectsAFlippedByteAndDeletesTheBlob() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    BlobStore.Stored stored = store.importFile(source("a.gguf", bytes(10_000, 4)), null);
    assertTrue(store.verify(stored.sha256()));

    byte[] b = Files.readAllBytes(stored.path());
    b[5000] ^= 0x01;
    Files.write(stored.path(), b);

    assertFalse(store.verify(stored.sha256()));
    assertFalse(store.contains(stored.sha256()));
    assertFalse(store.verify(stored.sha256()));
  }

  @Test
  void commitPartialWithWrongSizeDeletesThePartial() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    Path partial = store.partialFor("some-key");
    Files.write(partial, bytes(100, 5));
    assertThrows(BlobSizeMismatchException.class, () -> store.commitPartial(partial, null, 99));
    assertFalse(Files.exists(partial));

    Files.write(partial, bytes(100, 5));
    BlobStore.Stored stored = store.commitPartial(partial, null, 100);
    assertFalse(Files.exists(partial));
    assertTrue(store.contains(stored.sha256()));
  }

  @Test
  void evictsLeastRecentlyUsedUnpinnedBlobsOnlyAsManyAsNeeded() throws Exception {
    var clock = new ManualClock();
    var store = new BlobStore(dir.resolve("store"), clock);
    String[] sha = new String[4];
    for (int i = 0; i < 4; i++) {
      sha[i] = store.importFile(source("b" + i, bytes(1000, 10 + i)), null).sha256();
      clock.advanceSeconds(10);
    }
    // Use order, oldest first: 1, 0 (pinned), 3, 2.
    store.touch(sha[1]);
    clock.advanceSeconds(10);
    store.touch(sha[0]);
    clock.advanceSeconds(10);
    store.touch(sha[3]);
    clock.advanceSeconds(10);
    store.find(sha[2]).orElseThrow();

    assertEquals(List.of(), store.evictFor(1000, 5000, Set.of()));

    List<BlobStore.BlobInfo> evicted = store.evictFor(2500, 5000, Set.of(sha[0]));

    assertEquals(List.of(sha[1], sha[3]), evicted.stream().map(BlobStore.BlobInfo::sha256).toList());
    assertTrue(store.contains(sha[0]));
    assertTrue(store.contains(sha[2]));
    assertEquals(2000, store.usedBytes());
  }

  @Test
  void refusesToEvictAnythingWhenPinnedBlobsLeaveTooLittleRoom() throws Exception {
    var store = new BlobStore(dir.resolve("store"));
    String a = store.importFile(source("a", bytes(1000, 20)), null).sha256();
    String b = store.importFile(source("b", bytes(1000, 21)), null).sha256();
    String c = store.importFile(source("c", bytes(1000, 22)), null).sha256();

    var e = assertThrows(BlobStoreFullException.class, () -> store.evictFor(2500, 3000, Set.of(a, b)));

    assertEquals(2500, e.neededBytes());
    assertEquals(1000, e.freeableBytes());
    assertEquals(3000, e.quotaBytes());
    assertTrue(e.getMessage().contains("2500") && e.getMessage().contains("1000") && e.getMessage().contains("3000"), e.getMessage());
    assertTrue(store.contains(a) && store.contains(b) && store.contains(c));
  }

  @Test
  void directoriesAreOwnerOnlyAndBlobsOwnerReadWrite() throws Exception {
    assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"));
    var store = new BlobStore(dir.resolve("store"));
    for (String d : new String[] {"", "sha256", "tmp", "partial"}) {
      assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(store.root().resolve(d))), d);
    }
    BlobStore.Stored stored = store.importFile(source("a", bytes(10, 30)), null);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(stored.path())));
  }

  @Test
  void partialDownloadsCountAgainstTheQuotaAndAbandonedOnesAreDeleted() throws Exception {
    var clock = new ManualClock();
    var store = new BlobStore(dir.resolve("store"), clock);
    String blob = store.importFile(source("b", bytes(1000, 3)), null).sha256();
    Path fresh = store.partialFor("fresh-download");
    Files.write(fresh, bytes(1500, 4));
    // 1000 stored + 1500 partial + 1000 incoming > 3000: the blob must go; the partial is kept for its resume.
    assertEquals(List.of(blob), store.evictFor(1000, 3000, Set.of()).stream().map(BlobStore.BlobInfo::sha256).toList());
    assertTrue(Files.exists(fresh));
    // An hour later nobody wrote to it and nobody holds it: abandoned, deleted, and the room is there.
    Files.setLastModifiedTime(fresh, java.nio.file.attribute.FileTime.from(clock.instant()));
    clock.advanceSeconds(3601);
    assertEquals(List.of(), store.evictFor(2500, 3000, Set.of()));
    assertFalse(Files.exists(fresh));
  }
}
