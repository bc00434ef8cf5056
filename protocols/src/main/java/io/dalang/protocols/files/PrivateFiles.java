package io.dalang.protocols.files;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.Set;

/**
 * Files and folders only their owner can read: everything Dalang writes under its data dir (the
 * journal, keys, the database password, run records, baselines, engine logs). The mode is given when
 * the file is created, so there is no moment in which another local user could open it; on a file
 * system without POSIX permissions the files are written with its defaults.
 */
public final class PrivateFiles {
  /** 0600. */
  public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
  /** 0700. */
  public static final Set<PosixFilePermission> FOLDER = PosixFilePermissions.fromString("rwx------");
  private static final Set<PosixFilePermission> GROUP_OR_OTHERS = EnumSet.of(PosixFilePermission.GROUP_READ,
      PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
      PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

  private PrivateFiles() {}

  /** Creates {@code dir} and its missing parents, each one it creates 0700; folders that exist keep their mode. */
  public static Path createDirectories(Path dir) throws IOException {
    Path abs = dir.toAbsolutePath();
    if (Files.isDirectory(abs)) return dir;
    if (abs.getParent() != null) createDirectories(abs.getParent());
    try {
      Files.createDirectory(abs, attribute(abs, FOLDER));
    } catch (FileAlreadyExistsException e) {
      if (!Files.isDirectory(abs)) throw e;
    }
    return dir;
  }

  /** Writes {@code bytes} to a new file {@code f} (0600); fails if it exists. */
  public static void createNew(Path f, byte[] bytes) throws IOException {
    try (var ch = Files.newByteChannel(f, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), attribute(f, FILE))) {
      ch.write(ByteBuffer.wrap(bytes));
    }
  }

  /** Replaces {@code f} with a new file (0600) holding {@code text} in UTF-8. */
  public static void replace(Path f, String text) throws IOException {
    Files.deleteIfExists(f);
    createNew(f, text.getBytes(StandardCharsets.UTF_8));
  }

  /** Creates {@code f} empty (0600) unless it exists, so that a writer that cannot set a mode appends to a private file. */
  public static void createIfMissing(Path f) throws IOException {
    try {
      createNew(f, new byte[0]);
    } catch (FileAlreadyExistsException e) {
      // there already
    }
  }

  /** A UTF-8 writer appending to {@code f}, created 0600 if missing. */
  public static BufferedWriter appender(Path f) throws IOException {
    Set<OpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    return new BufferedWriter(new OutputStreamWriter(Channels.newOutputStream(Files.newByteChannel(f, options, attribute(f, FILE))),
        StandardCharsets.UTF_8));
  }

  /**
   * Takes every permission of group and others away from {@code root} and everything under it (links
   * are not followed): a data dir written by an older version, or by a tool under a loose umask.
   *
   * @return how many files and folders were changed; 0 on a file system without POSIX permissions
   */
  public static int tighten(Path root) throws IOException {
    if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS) || !posix(root)) return 0;
    int[] changed = {0};
    Files.walkFileTree(root, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
        changed[0] += ownerOnly(dir);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isRegularFile()) changed[0] += ownerOnly(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path file, IOException e) {
        return FileVisitResult.CONTINUE; // gone meanwhile (a temp file), or not ours to read
      }
    });
    return changed[0];
  }

  private static int ownerOnly(Path p) throws IOException {
    try {
      var perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
      if (!perms.removeAll(GROUP_OR_OTHERS)) return 0;
      Files.setPosixFilePermissions(p, perms);
      return 1;
    } catch (java.nio.file.NoSuchFileException e) {
      return 0;
    }
  }

  private static boolean posix(Path p) {
    return p.toAbsolutePath().getFileSystem().supportedFileAttributeViews().contains("posix");
  }

  private static FileAttribute<?>[] attribute(Path p, Set<PosixFilePermission> mode) {
    return posix(p) ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(mode)} : new FileAttribute<?>[0];
  }
}
