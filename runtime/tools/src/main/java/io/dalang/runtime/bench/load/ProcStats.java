package io.dalang.runtime.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Another process's CPU time and resident memory, read from Linux's {@code /proc}: what a benchmark
 * charges to the process it measures, without attaching to it.
 */
public final class ProcStats {
  /** Linux's USER_HZ, the unit of {@code /proc/<pid>/stat}'s times: 100 on every mainstream architecture. */
  static final long CLOCK_TICKS_PER_SECOND = 100;

  private ProcStats() {}

  /** User plus system CPU time of {@code pid} so far, in nanoseconds. */
  public static long cpuNanos(long pid) throws IOException {
    return cpuNanosOf(Files.readString(Path.of("/proc", String.valueOf(pid), "stat")));
  }

  /** Resident set size of {@code pid}, in bytes. */
  public static long rssBytes(long pid) throws IOException {
    return rssBytesOf(Files.readString(Path.of("/proc", String.valueOf(pid), "status")));
  }

  /**
   * utime + stime (fields 14 and 15) of a {@code /proc/<pid>/stat} line, in nanoseconds. The command
   * name (field 2) is in parentheses and may itself hold spaces and parentheses, so fields are counted
   * from its last closing parenthesis.
   */
  static long cpuNanosOf(String stat) {
    int close = stat.lastIndexOf(')');
    if (close < 0) throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + stat);
    String[] f = stat.substring(close + 1).trim().split("\\s+");
    // f[0] is field 3 (state), so field n is f[n - 3].
    long ticks = Long.parseLong(f[14 - 3]) + Long.parseLong(f[15 - 3]);
    return ticks * (1_000_000_000L / CLOCK_TICKS_PER_SECOND);
  }

  /** The {@code VmRSS} line of a {@code /proc/<pid>/status} text, in bytes. */
  static long rssBytesOf(String status) {
    for (String line : status.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        String[] f = line.substring(6).trim().split("\\s+");
        return Long.parseLong(f[0]) * 1024; // always in kB
      }
    }
    throw new IllegalArgumentException("no VmRSS line in /proc/<pid>/status");
  }
}
