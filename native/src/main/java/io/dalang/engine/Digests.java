package io.dalang.engine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 digests of files, streams and strings, as lower-case hex. */
public final class Digests {
  private Digests() {}

  public static String sha256(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return sha256(in);
    }
  }

  private record Stamp(long size, long modifiedMillis, String digest) {}

  private static final java.util.Map<Path, Stamp> FILE_DIGESTS = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The SHA-256 of a file, remembered by path, size and modification time: a model of many GiB is
   * hashed once per process, not on every engine restart. A changed file is hashed again.
   */
  public static String sha256Cached(Path file) throws IOException {
    Path key = file.toAbsolutePath().normalize();
    long size = Files.size(key);
    long modified = Files.getLastModifiedTime(key).toMillis();
    Stamp s = FILE_DIGESTS.get(key);
    if (s != null && s.size() == size && s.modifiedMillis() == modified) return s.digest();
    String digest = sha256(key);
    FILE_DIGESTS.put(key, new Stamp(size, modified, digest));
    return digest;
  }

  public static String sha256(InputStream in) throws IOException {
    MessageDigest md = sha256();
    byte[] buf = new byte[1 << 16];
    for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
    return HexFormat.of().formatHex(md.digest());
  }

  public static String sha256(String s) {
    return HexFormat.of().formatHex(sha256().digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Digest of the native llama.cpp library shipped inside de.kherud:llama for this platform. */
  static String classpathLibraryDigest() {
    String res = "/de/kherud/llama/Linux/" + ("aarch64".equals(System.getProperty("os.arch")) ? "aarch64" : "x86_64") + "/libjllama.so";
    try (InputStream in = Digests.class.getResourceAsStream(res)) {
      return in == null ? "unknown" : sha256(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
