package io.dalang.runtime.sweep;

import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.protocols.sweep.SweepSummary.Preset;
import io.dalang.protocols.sweep.SweepSummary.Provenance;
import io.dalang.protocols.sweep.SweepSummary.Recommendation;
import io.dalang.protocols.sweep.SweepSummary.Variant;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small sweep summaries for the tests of the tools that read them. */
public final class Summaries {
  private Summaries() {}

  /** A variant with the figures the tools look at; 10 runs, {@code valid} of them valid. */
  public static Variant variant(String name, int valid, double tokensPerSecond, double adherence, double ttftP95, double firstDivergence) {
    return new Variant(name, "/models/" + name + ".gguf", "sha256:" + name.toLowerCase(), 1_000_000, Map.of("q4_K", 10),
        name.equals("F16"), 10, valid, valid < 10 ? Map.of("truncated", 10 - valid) : Map.of(),
        tokensPerSecond, tokensPerSecond, ttftP95 / 2, ttftP95, adherence, firstDivergence, 3, List.of());
  }

  public static Provenance provenance(String promptsDigest, String engineDigest, int cpus) {
    var machine = new LinkedHashMap<String, Object>();
    machine.put("hostname", "bench-1");
    machine.put("cpus", cpus);
    return new Provenance("0.1.0", "abc1234", "llama-server", "b4916", engineDigest, "sha256:quantize", "dalang-demo",
        "sha256:base", machine, new Preset("tiny-cpu", 42, 2, "none", 1, 32, 3, 4, promptsDigest));
  }

  public static Provenance provenance() {
    return provenance("sha256:prompts", "sha256:engine", 2);
  }

  /** A sweep whose reference is its first variant; {@code recommended} may be null. */
  public static SweepSummary summary(String id, String recommended, Provenance p, Variant... variants) {
    var rec = new Recommendation(recommended, 0.9, recommended == null ? "no variant reached adherence 0.9" : "fastest over the floor",
        Map.of());
    var frontier = new ArrayList<String>();
    for (Variant v : variants) frontier.add(v.name());
    return new SweepSummary(SweepSummary.SCHEMA_VERSION, id, "2025-01-01T00:00:00Z", p, variants[0].name(), List.of(variants), rec,
        frontier, false);
  }

  public static Path write(SweepSummary s, Path file) throws IOException {
    Files.write(file, Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
    return file;
  }
}
