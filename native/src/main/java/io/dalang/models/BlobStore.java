package io.dalang.models;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Content-addressed model blobs under a root: {@code <root>/sha256/<64 lower-case hex>}. A blob's
 * name is the SHA-256 of its bytes, so a name in {@code sha256/} is a promise: bytes only get there
 * by an atomic rename after they were hashed and fsynced ({@code tmp/} for imports, {@code partial/}
 * for downloads). A crash leaves at worst a stray temp or partial file, never a wrong blob.
 *
 * <p>The directories are {@code 0700} and the files {@code 0600} where the file system is POSIX:
 * a model may be licensed or private, and nothing but this process needs to read it.
 *
 * <p>A blob's last use (for LRU eviction) is its file's last-modified time: {@link #touch} moves it,
 * never the bytes. That keeps the store a plain directory: no index to fall out of step with it.
 */
public final class BlobStore {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern CANONICAL_SHA256 = Pattern.compile("[0-9a-f]{64}");

  /** Whether {@code s} is a digest in the form blobs are named by (64 lower-case hex digits). */
  public static boolean isDigest(String s) {
    return s != null && CANONICAL_SHA256.matcher(s).matches();
  }
  private static final Pattern KEY = Pattern.compile("[a-z0-9-]{1,80}");
  private static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-------");

  private final Path root;
  private final Path blobs;
  private final Path tmp;
  private final Path partial;
  private final Clock clock;

  /** Last uses recorded in this process, by digest. */
  private final java.util.Map<String, Instant> uses = new java.util.concurrent.ConcurrentHashMap<>();

  public BlobStore(Path root) throws IOException {
    this(root, Clock.systemUTC());
  }

  /** With the clock that stamps {@link #touch}: tests move it to order uses without sleeping. */
  BlobStore(Path root, Clock clock) throws IOException {
    this.root = root.toAbsolutePath().normalize();
    this.blobs = this.root.resolve("sha256");
    this.tmp = this.root.resolve("tmp");
    this.partial = this.root.resolve("partial");
    this.clock = clock;
    for (Path dir : List.of(this.root, blobs, tmp, partial)) createPrivateDirectory(dir);
  }

  public Path root() {
    return root;
  }

  /** Where the blob with this digest lives (whether or not it is there); the digest is normalised to lower case. */
  public Path pathOf(String sha256) {
    return blobs.resolve(normalize(sha256));
  }

  public boolean contains(String sha256) {
    return Files.isRegularFile(pathOf(sha256));
  }

  /** The blob's path when it is present; finding it counts as a use. */
  public Optional<Path> find(String sha256) {
    Path p = pathOf(sha256);
    if (!Files.isRegularFile(p)) return Optional.empty();
    touch(sha256);
    return Optional.of(p);
  }

  /**
   * Copies a local file in, hashing it on the way into a temp file; the temp file becomes the blob only
   * once its digest is known (and matches {@code expectedSha256} when one is given). An already-present
   * blob is not copied again: the copy is dropped and the present one is returned.
   */
  public Stored importFile(Path source, String expectedSha256) throws IOException {
    String expected = expectedSha256 == null ? null : normalize(expectedSha256);
    if (expected != null && contains(expected)) {
      touch(expected);
      return stored(expected);
    }
    Path temp = Files.createTempFile(tmp, "import-", ".tmp", fileAttributes());
    try {
      MessageDigest md = sha256();
      try (InputStream in = Files.newInputStream(source);
          FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
        byte[] buf = new byte[1 << 16];
        for (int n; (n = in.read(buf)) > 0; ) {
          md.update(buf, 0, n);
          writeFully(out, ByteBuffer.wrap(buf, 0, n));
        }
        out.force(true);
      }
      String actual = HexFormat.of().formatHex(md.digest());
      if (expected != null && !expected.equals(actual)) throw new BlobDigestMismatchException(expected, actual);
      return place(temp, actual);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** The partial-download file for a key: a digest, or any other {@code [a-z0-9-]{1,80}} key (a URL's hash). */
  public Path partialFor(String key) {
    if (key != null && SHA256.matcher(key).matches()) return partial.resolve(key.toLowerCase(Locale.ROOT));
    if (key == null || !KEY.matcher(key).matches()) throw new IllegalArgumentException("a partial key is [a-z0-9-]{1,80}");
    return partial.resolve(key);
  }

  /**
   * Turns a finished partial file into a blob: checks its size (when {@code expectedSize >= 0}) and its
   * digest (when {@code expectedSha256} is not null), hashed from disk after an fsync, then renames it into
   * place. A wrong partial is deleted: its bytes are wrong, and resuming from them would only be wrong again.
   */
  public Stored commitPartial(Path partialFile, String expectedSha256, long expectedSize) throws IOException {
    String expected = expectedSha256 == null ? null : normalize(expectedSha256);
    try {
      long size;
      String actual;
      try (FileChannel ch = FileChannel.open(partialFile, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        ch.force(true);
        size = ch.size();
        if (expectedSize >= 0 && size != expectedSize) throw new BlobSizeMismatchException(expectedSize, size);
        actual = sha256(ch);
      }
      if (expected != null && !expected.equals(actual)) throw new BlobDigestMismatchException(expected, actual);
      return place(partialFile, actual);
    } catch (BlobSizeMismatchException | BlobDigestMismatchException e) {
      Files.deleteIfExists(partialFile);
      throw e;
    }
  }

  /** Re-hashes a stored blob (a disk can rot, a person can edit a file); a corrupt one is deleted. */
  public boolean verify(String sha256) throws IOException {
    String digest = normalize(sha256);
    Path p = pathOf(digest);
    String actual;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      actual = sha256(ch);
    } catch (NoSuchFileException e) {
      return false;
    }
    if (actual.equals(digest)) return true;
    Files.deleteIfExists(p);
    return false;
  }

  public boolean delete(String sha256) throws IOException {
    uses.remove(normalize(sha256));
    return Files.deleteIfExists(pathOf(sha256));
  }

  /**
   * Records a use now, for LRU, in memory: the file itself is left alone, so its modification time stays
   * what digests are remembered by ({@code Digests.sha256Cached}: a touched blob is not hashed again).
   * After a restart a blob's last use is its modification time (when it was written) until it is used.
   */
  public void touch(String sha256) {
    uses.put(normalize(sha256), clock.instant());
  }

  /** Every complete blob, in no particular order. Files in {@code sha256/} that are not named by a digest are skipped. */
  public List<BlobInfo> list() throws IOException {
    var out = new ArrayList<BlobInfo>();
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(blobs)) {
      for (Path p : dir) {
        String name = p.getFileName().toString();
        if (!SHA256.matcher(name).matches() || !name.equals(name.toLowerCase(Locale.ROOT))) continue;
        try {
          var attrs = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
          if (attrs.isRegularFile()) out.add(new BlobInfo(name, attrs.size(), uses.getOrDefault(name, attrs.lastModifiedTime().toInstant())));
        } catch (NoSuchFileException evictedMeanwhile) {
          // listed, then deleted by someone else: not a blob any more
        }
      }
    }
    return out;
  }

  public long usedBytes() throws IOException {
    return list().stream().mapToLong(BlobInfo::size).sum();
  }

  /**
   * Frees space so that {@code incomingBytes} more fit under {@code maxBytes}: deletes the least recently
   * used blobs not in {@code pinned}, oldest first, only as many as needed. Partial downloads count as
   * used; those abandoned for {@link #STALE_PARTIAL} (no download holds them) are deleted first. When even every unpinned blob is
   * not enough, nothing is deleted: a half-emptied cache that still cannot take the blob helps no one.
   *
   * @return the evicted blobs, oldest first (empty when everything already fits)
   * @throws BlobStoreFullException when the pinned blobs leave too little room
   */
  public synchronized List<BlobInfo> evictFor(long incomingBytes, long maxBytes, Set<String> pinned) throws IOException {
    Set<String> keep = pinned.stream().map(s -> s.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
    List<BlobInfo> all = list();
    // Partial downloads take disk too: abandoned ones go first, the others count against the quota.
    long used = all.stream().mapToLong(BlobInfo::size).sum() + partialBytesAfterCleanup();
    long needed = used + incomingBytes - maxBytes;
    if (needed <= 0) return List.of();
    List<BlobInfo> candidates = all.stream()
        .filter(b -> !keep.contains(b.sha256()))
        .sorted(Comparator.comparing(BlobInfo::lastUsed).thenComparing(BlobInfo::sha256))
        .toList();
    long freeable = candidates.stream().mapToLong(BlobInfo::size).sum();
    if (freeable < needed) throw new BlobStoreFullException(needed, freeable, maxBytes);
    var evicted = new ArrayList<BlobInfo>();
    long freed = 0;
    for (BlobInfo b : candidates) {
      if (freed >= needed) break;
      if (delete(b.sha256())) {
        evicted.add(b);
        freed += b.size();
      }
    }
    return evicted;
  }

  /** How long a partial download nobody writes to is kept for a resume before eviction may delete it. */
  static final java.time.Duration STALE_PARTIAL = java.time.Duration.ofHours(1);

  /**
   * Deletes partial files that no download holds (their lock is free) and that have not been written
   * for {@link #STALE_PARTIAL}; the bytes of the partials that stay.
   */
  private long partialBytesAfterCleanup() throws IOException {
    long bytes = 0;
    try (DirectoryStream<Path> dir = Files.newDirectoryStream(partial)) {
      for (Path p : dir) {
        try {
          var attrs = Files.readAttributes(p, java.nio.file.attribute.BasicFileAttributes.class);
          if (!attrs.isRegularFile()) continue;
          boolean stale = attrs.lastModifiedTime().toInstant().isBefore(clock.instant().minus(STALE_PARTIAL));
          if (stale && unheld(p)) {
            Files.deleteIfExists(p);
            continue;
          }
          bytes += attrs.size();
        } catch (NoSuchFileException goneMeanwhile) {
          // committed or deleted by its download
        }
      }
    }
    return bytes;
  }

  /** Whether no download (in this process or another) holds the partial's lock. */
  private static boolean unheld(Path p) {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      var lock = ch.tryLock();
      if (lock == null) return false;
      lock.release();
      return true;
    } catch (java.nio.channels.OverlappingFileLockException | IOException e) {
      return false; // held in this JVM, or unreadable: leave it
    }
  }

  /** A blob in the store: its digest, its size in bytes and where it lies. */
  public record Stored(String sha256, long size, Path path) {}

  /** A blob as {@link #list()} sees it; {@code lastUsed} is its last {@link #touch}, import or download. */
  public record BlobInfo(String sha256, long size, Instant lastUsed) {}

  /** Renames a hashed, fsynced file into place as {@code sha256/<digest>}, or drops it when that blob is already there. */
  private Stored place(Path file, String digest) throws IOException {
    Path target = pathOf(digest);
    if (Files.isRegularFile(target)) {
      Files.deleteIfExists(file);
    } else {
      setMode(file, FILE_MODE);
      try {
        Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        // Both lie in one directory tree, so an atomic move is supported wherever a rename is; a file that
        // appeared meanwhile holds the same bytes (same digest), so ours is simply not needed.
        if (!Files.isRegularFile(target)) throw e;
        Files.deleteIfExists(file);
      }
      fsyncDirectory(blobs);
    }
    touch(digest);
    return stored(digest);
  }

  private Stored stored(String digest) throws IOException {
    Path p = pathOf(digest);
    return new Stored(digest, Files.size(p), p);
  }

  static String normalize(String sha256) {
    if (sha256 == null || !SHA256.matcher(sha256).matches()) {
      throw new IllegalArgumentException("a sha256 is 64 hex characters");
    }
    return sha256.toLowerCase(Locale.ROOT);
  }

  /** Whether the store's file system knows POSIX modes; elsewhere (Windows) the modes are left to the platform. */
  private boolean posix() {
    return root.getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  /** The attributes a new file is created with: {@code 0600} on POSIX, none elsewhere. */
  FileAttribute<?>[] fileAttributes() {
    return posix() ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_MODE)} : new FileAttribute<?>[0];
  }

  private void createPrivateDirectory(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      setMode(dir, DIR_MODE);
    }
  }

  private void setMode(Path p, Set<PosixFilePermission> mode) throws IOException {
    if (posix()) Files.setPosixFilePermissions(p, mode);
  }

  /** Makes a rename durable: without it a crash can forget the new directory entry although the file's bytes were synced. */
  private static void fsyncDirectory(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms (Windows) cannot open a directory; there the rename is as durable as the platform makes it.
    }
  }

  static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) out.write(buf);
  }

  private static String sha256(FileChannel ch) throws IOException {
    MessageDigest md = sha256();
    ByteBuffer buf = ByteBuffer.allocate(1 << 16);
    long pos = 0;
    for (int n; (n = ch.read(buf, pos)) > 0; pos += n) {
      buf.flip();
      md.update(buf);
      buf.clear();
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
