package io.dalang.gpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Device samples taken beside a run: {@code nvidia-smi --query-gpu=... --format=csv} output (with or
 * without header and units, any driver's spelling of the fields) or a sidecar file in the same form,
 * turned into canonical snake_case keys. Parsing never throws: every sample carries
 * {@code sidecar_parse_status} ({@code ok}, {@code partial}, {@code failed} or {@code absent}) and
 * {@code sidecar_parse_errors}, so a problem with the sidecar never fails a run. These numbers describe
 * the device for diagnostics; gates use Dalang's own telemetry, never these. Only
 * {@link #FOREIGN_PROCESSES} decides something: a run during which it is above 0 is not valid for KPIs.
 *
 * <p>Required keys: {@code gpu_util_percent}, {@code memory_used_mib}, {@code power_draw_w},
 * {@code temperature_c}, {@code sm_clock_mhz}. Optional when present: {@code gpu_index},
 * {@code gpu_name}, {@code gpu_uuid}, {@code memory_total_mib}, {@code memory_util_percent},
 * {@code power_limit_w}, {@code mem_clock_mhz}, {@code fan_speed_percent}, {@code pstate}, and
 * {@link #FOREIGN_PROCESSES}.
 * Values nvidia-smi cannot give ({@code [N/A]}, {@code [Not Supported]}, {@code N/A}) are left out and
 * named in the errors; a required one left out makes the sample {@code partial} (none at all:
 * {@code failed}), an optional one does not change the status.
 */
public final class GpuSidecar {
  /** What {@link #sample()} asks nvidia-smi for, and the field order of a headerless sidecar file. */
  public static final String QUERY = "index,name,utilization.gpu,utilization.memory,memory.used,memory.total,power.draw,"
      + "power.limit,temperature.gpu,clocks.sm,clocks.mem,fan.speed,pstate";
  public static final List<String> REQUIRED = List.of("gpu_util_percent", "memory_used_mib", "power_draw_w", "temperature_c", "sm_clock_mhz");
  public static final String STATUS = "sidecar_parse_status";
  public static final String ERRORS = "sidecar_parse_errors";
  /**
   * GPU compute processes of this machine that are neither this process nor one it started (another
   * workload sharing the devices); the same count on every GPU's sample. {@link #sample()} asks
   * nvidia-smi for them; a sidecar file may carry its own sampler's count as a {@code foreign_processes}
   * column.
   */
  public static final String FOREIGN_PROCESSES = "foreign_processes";

  private static final Map<String, String> FIELDS = new LinkedHashMap<>();

  static {
    FIELDS.put("index", "gpu_index");
    FIELDS.put("name", "gpu_name");
    FIELDS.put("uuid", "gpu_uuid");
    FIELDS.put("utilization.gpu", "gpu_util_percent");
    FIELDS.put("utilization.memory", "memory_util_percent");
    FIELDS.put("memory.used", "memory_used_mib");
    FIELDS.put("memory.total", "memory_total_mib");
    // Drivers from 535 on also offer power.draw.average / power.draw.instant; power.draw is the average.
    FIELDS.put("power.draw", "power_draw_w");
    FIELDS.put("power.draw.average", "power_draw_w");
    FIELDS.put("power.draw.instant", "power_draw_w");
    FIELDS.put("power.limit", "power_limit_w");
    FIELDS.put("enforced.power.limit", "power_limit_w");
    FIELDS.put("temperature.gpu", "temperature_c");
    FIELDS.put("clocks.sm", "sm_clock_mhz");
    FIELDS.put("clocks.current.sm", "sm_clock_mhz");
    FIELDS.put("clocks.mem", "mem_clock_mhz");
    FIELDS.put("clocks.current.memory", "mem_clock_mhz");
    FIELDS.put("fan.speed", "fan_speed_percent");
    FIELDS.put("pstate", "pstate");
    FIELDS.put(FOREIGN_PROCESSES, FOREIGN_PROCESSES);
  }

  private static final java.util.Set<String> INTEGERS = java.util.Set.of("gpu_index", FOREIGN_PROCESSES);

  private static final java.util.Set<String> TEXT = java.util.Set.of("gpu_name", "gpu_uuid", "pstate");

  private GpuSidecar() {}

  /** One sample of every GPU of this machine now; {@code absent} (one map) when there is no nvidia-smi. */
  public static List<Map<String, Object>> sample() {
    try {
      Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=" + QUERY, "--format=csv").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return List.of(failed("nvidia-smi did not answer within 5 s"));
      }
      if (p.exitValue() != 0) return List.of(failed("nvidia-smi exited with " + p.exitValue() + ": " + firstLine(out)));
      return withForeignProcesses(parse(out));
    } catch (IOException e) {
      return List.of(absent());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of(failed("interrupted while sampling"));
    }
  }

  /** The samples with {@link #FOREIGN_PROCESSES} from nvidia-smi's compute processes, or an error saying why not. */
  private static List<Map<String, Object>> withForeignProcesses(List<Map<String, Object>> samples) {
    Object count;
    try {
      Process p = new ProcessBuilder("nvidia-smi", "--query-compute-apps=pid", "--format=csv,noheader").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean exited = p.waitFor(5, TimeUnit.SECONDS);
      if (!exited) p.destroyForcibly();
      count = !exited ? "nvidia-smi did not list compute processes within 5 s"
          : p.exitValue() != 0 ? "nvidia-smi exited with " + p.exitValue() + " listing compute processes" : foreignProcesses(out, ownProcesses());
    } catch (IOException e) {
      count = "cannot list compute processes: " + e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      count = "interrupted while listing compute processes";
    }
    var out = new ArrayList<Map<String, Object>>();
    for (Map<String, Object> s : samples) {
      var m = new LinkedHashMap<>(s);
      if (count instanceof Integer n) {
        m.put(FOREIGN_PROCESSES, n);
      } else {
        @SuppressWarnings("unchecked")
        var errors = new ArrayList<>((List<String>) s.getOrDefault(ERRORS, List.of()));
        errors.add(FOREIGN_PROCESSES + ": " + count);
        m.put(ERRORS, List.copyOf(errors));
      }
      out.add(m);
    }
    return out;
  }

  /** This JVM and every process it started (llama-server engines). */
  private static java.util.Set<Long> ownProcesses() {
    var own = new java.util.HashSet<Long>();
    own.add(ProcessHandle.current().pid());
    ProcessHandle.current().descendants().forEach(h -> own.add(h.pid()));
    return own;
  }

  /**
   * How many of the pids in nvidia-smi's {@code --query-compute-apps=pid --format=csv,noheader} output
   * are not in {@code own}, each counted once. Lines that are no pid (some drivers print "No running processes found")
   * count for nothing. In a container with its own pid namespace nvidia-smi may list host pids: they
   * then count as foreign, and the sidecar should be off or a file there.
   */
  static int foreignProcesses(String computeApps, java.util.Set<Long> own) {
    var foreign = new java.util.HashSet<Long>(); // a process on two GPUs is listed twice
    for (String line : computeApps.lines().map(String::strip).toList()) {
      try {
        long pid = Long.parseLong(line);
        if (!own.contains(pid)) foreign.add(pid);
      } catch (NumberFormatException notAPid) {
        // a message, not a process
      }
    }
    return foreign.size();
  }

  /**
   * Parses nvidia-smi CSV: with a header line (units in brackets or not), or without one, in which case
   * the fields are those of {@link #QUERY} in order. One map per GPU line.
   */
  public static List<Map<String, Object>> parse(String csv) {
    if (csv == null || csv.isBlank()) return List.of(absent());
    List<String> lines = csv.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    List<String> header;
    int first;
    if (looksLikeHeader(lines.get(0))) {
      header = split(lines.get(0)).stream().map(GpuSidecar::fieldName).toList();
      first = 1;
    } else {
      header = List.of(QUERY.split(","));
      first = 0;
    }
    if (first >= lines.size()) return List.of(failed("a header but no GPU lines"));
    var out = new ArrayList<Map<String, Object>>();
    for (int i = first; i < lines.size(); i++) out.add(parseLine(header, split(lines.get(i))));
    return out;
  }

  private static Map<String, Object> parseLine(List<String> header, List<String> cells) {
    var sample = new LinkedHashMap<String, Object>();
    var errors = new ArrayList<String>();
    if (cells.size() != header.size()) {
      errors.add("expected " + header.size() + " fields, found " + cells.size());
    }
    for (int i = 0; i < Math.min(header.size(), cells.size()); i++) {
      String key = FIELDS.get(header.get(i));
      if (key == null) continue; // a field we do not map is not an error
      String raw = cells.get(i).strip();
      if (unavailable(raw)) {
        errors.add(key + ": " + raw);
        continue;
      }
      if (TEXT.contains(key)) {
        sample.put(key, raw);
        continue;
      }
      Double v = number(raw);
      if (v == null) {
        errors.add(key + ": not a number: '" + raw + "'");
      } else if (INTEGERS.contains(key)) {
        sample.put(key, v.intValue());
      } else {
        sample.putIfAbsent(key, v); // power.draw before power.draw.instant: the first wins
      }
    }
    long required = REQUIRED.stream().filter(sample::containsKey).count();
    // Optional fields a device does not have (a fan on an SXM board) are noted but do not make it partial.
    String status = required == REQUIRED.size() && cells.size() == header.size() ? "ok" : required == 0 ? "failed" : "partial";
    for (String r : REQUIRED) if (!sample.containsKey(r) && errors.stream().noneMatch(e -> e.startsWith(r + ":"))) errors.add(r + ": missing");
    sample.put(STATUS, status);
    sample.put(ERRORS, List.copyOf(errors));
    return sample;
  }

  private static boolean looksLikeHeader(String line) {
    // Headers name dotted fields ("utilization.gpu [%]"); data lines start with an index or a number.
    String firstCell = split(line).get(0).strip();
    return !firstCell.isEmpty() && !Character.isDigit(firstCell.charAt(0)) && line.contains(".");
  }

  /** "utilization.gpu [%]" → "utilization.gpu". */
  private static String fieldName(String headerCell) {
    String s = headerCell.strip().toLowerCase(Locale.ROOT);
    int b = s.indexOf('[');
    return (b >= 0 ? s.substring(0, b) : s).strip();
  }

  private static boolean unavailable(String raw) {
    String s = raw.toLowerCase(Locale.ROOT);
    return s.isEmpty() || s.equals("[n/a]") || s.equals("n/a") || s.equals("[not supported]") || s.equals("not supported")
        || s.equals("[unknown error]") || s.equals("[gpu is lost]");
  }

  /** "45 %", "1234 MiB", "70.12 W", "1410 MHz", "63" → the number; null if it is none. */
  private static Double number(String raw) {
    String s = raw;
    int sp = s.indexOf(' ');
    if (sp > 0) s = s.substring(0, sp);
    if (s.endsWith("%")) s = s.substring(0, s.length() - 1);
    try {
      return Double.valueOf(s);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static List<String> split(String line) {
    var out = new ArrayList<String>();
    for (String c : line.split(",", -1)) out.add(c.strip());
    return out;
  }

  public static Map<String, Object> absent() {
    var m = new LinkedHashMap<String, Object>();
    m.put(STATUS, "absent");
    m.put(ERRORS, List.of());
    return m;
  }

  private static Map<String, Object> failed(String why) {
    var m = new LinkedHashMap<String, Object>();
    m.put(STATUS, "failed");
    m.put(ERRORS, List.of(why));
    return m;
  }

  private static String firstLine(String s) {
    return s.lines().findFirst().orElse("").strip();
  }
}
