package io.dalang.runtime.bench;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@code dalang} command in its own JVM, started the way the CLI runs ({@code java -cp <this class path>
 * io.dalang.runtime.Main ...}) and, where {@code taskset} exists and a CPU is named, pinned to that CPU so
 * that its CPU time and its competition for the cores are its own. Its output goes to a log file.
 */
final class ChildJvm implements AutoCloseable {
  private static final String TASKSET = "/usr/bin/taskset";
  final Process process;
  final Path log;

  private ChildJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * @param cpu the CPU list for {@code taskset -c} (e.g. {@code "1"}); null or empty: not pinned
   * @param env variables added to this process's environment (keys stay out of the command line)
   */
  static ChildJvm start(String cpu, List<String> jvmOptions, List<String> dalangArgs, Map<String, String> env, Path log) throws IOException {
    var cmd = new ArrayList<String>();
    if (cpu != null && !cpu.isEmpty() && canPin()) cmd.addAll(List.of(TASKSET, "-c", cpu));
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.dalang.runtime.Main"));
    cmd.addAll(dalangArgs);
    var pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return new ChildJvm(pb.start(), log);
  }

  static boolean canPin() {
    return new File(TASKSET).canExecute();
  }

  /** Pins every thread of this JVM (and so the threads it starts later) to {@code cpu}; false where it cannot. */
  static boolean pinSelf(String cpu) throws IOException, InterruptedException {
    if (cpu == null || cpu.isEmpty() || !canPin()) return false;
    var p = new ProcessBuilder(TASKSET, "-a", "-p", "-c", cpu, String.valueOf(ProcessHandle.current().pid()))
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    return p.waitFor() == 0;
  }

  /**
   * The JVM's pid: under {@code taskset} the process is taskset itself until it execs java, which keeps
   * the pid, so the pid is the JVM's either way.
   */
  long pid() {
    return process.pid();
  }

  /** Waits for a line of the log that starts with {@code prefix} and returns the rest of it. */
  String awaitLine(String prefix, long timeoutMillis) throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMillis;
    while (System.currentTimeMillis() < deadline) {
      if (Files.exists(log)) {
        for (String line : Files.readAllLines(log)) if (line.startsWith(prefix)) return line.substring(prefix.length()).strip();
      }
      if (!process.isAlive()) throw new IOException("exited with " + process.exitValue() + "; see " + log);
      Thread.sleep(100);
    }
    throw new IOException("no line '" + prefix + "...' within " + timeoutMillis + " ms; see " + log);
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
