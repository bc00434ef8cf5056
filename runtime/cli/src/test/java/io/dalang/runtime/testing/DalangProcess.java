package io.dalang.runtime.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code dalang ARGS} in a JVM of its own, for the tests that run real processes (kill -9, several nodes). */
public final class DalangProcess {
  private DalangProcess() {}

  /**
   * Starts {@code dalang ARGS} with the test class path, its output in {@code <dir>/<name>.log} and the
   * in-process engine's native library unpacked in {@code <dir>/<name>-native} (JVMs that share one race).
   *
   * @param env variables to set; a null value removes one ({@code DALANG_DATA_DIR} is always removed)
   */
  public static Process start(Path dir, String name, List<String> args, Map<String, String> env) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    var cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC", "-Dde.kherud.llama.tmpdir=" + dir.resolve(name + "-native"),
        "-cp", classPath(), "io.dalang.runtime.Main"));
    cmd.addAll(args);
    Files.createDirectories(dir.resolve(name + "-native"));
    var pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
    pb.environment().remove("DALANG_DATA_DIR");
    env.forEach((k, v) -> {
      if (v == null) pb.environment().remove(k);
      else pb.environment().put(k, v);
    });
    return pb.start();
  }

  /** The test class path (Surefire and Failsafe put it here; a manifest-only booter jar is all java.class.path holds then). */
  public static String classPath() {
    String cp = System.getProperty("surefire.test.class.path");
    return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
  }

  public static int freePort() throws IOException {
    try (var s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
