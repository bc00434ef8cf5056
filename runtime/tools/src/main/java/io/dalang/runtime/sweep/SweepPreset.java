package io.dalang.runtime.sweep;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.dalang.engine.Digests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A sweep's workload, from {@code config/presets/NAME.conf} (shipped: {@code logic_only},
 * {@code refactor_heavy}, {@code mixed}) or any HOCON file with the same keys under {@code preset}.
 */
public record SweepPreset(String name, long seed, int threads, String affinityPolicy, int warmupSteps, int maxTokens, int repeats,
    List<Prompt> prompts) {

  public static final Set<String> AFFINITY_POLICIES = Set.of("none", "pinned");

  public record Prompt(String id, String text) {}

  /** sha256 over the prompts in order (id and text), so two sweeps can tell they ran the same workload. */
  public String promptsDigest() {
    var sb = new StringBuilder();
    for (Prompt p : prompts) sb.append(p.id()).append('\u0000').append(p.text()).append('\u0000');
    return Digests.sha256(sb.toString());
  }

  public List<String> promptIds() {
    return prompts.stream().map(Prompt::id).toList();
  }

  /**
   * {@code nameOrFile}: a shipped preset's name, or a path to a preset file.
   *
   * @throws IllegalArgumentException naming the key, when the preset is missing or malformed
   */
  public static SweepPreset load(String nameOrFile) {
    Path file = Path.of(nameOrFile);
    Config c;
    String name;
    if (Files.isRegularFile(file)) {
      c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
      name = file.getFileName().toString().replaceFirst("\\.conf$", "");
    } else {
      if (!nameOrFile.matches("[a-z0-9_-]+")) throw new IllegalArgumentException("no preset file " + nameOrFile);
      c = ConfigFactory.parseResources("presets/" + nameOrFile + ".conf");
      if (c.isEmpty()) throw new IllegalArgumentException("no preset '" + nameOrFile + "' (shipped: logic_only, refactor_heavy, mixed; or give a file)");
      name = nameOrFile;
    }
    try {
      return from(name, c.resolve().getConfig("preset"));
    } catch (ConfigException e) {
      throw new IllegalArgumentException("preset " + nameOrFile + ": " + e.getMessage());
    }
  }

  static SweepPreset from(String name, Config p) {
    var prompts = new ArrayList<Prompt>();
    var ids = new HashSet<String>();
    for (Config q : p.getConfigList("prompts")) {
      var prompt = new Prompt(q.getString("id"), q.getString("text"));
      if (!ids.add(prompt.id())) throw new IllegalArgumentException("preset " + name + ": prompt id '" + prompt.id() + "' appears twice");
      if (prompt.text().isBlank()) throw new IllegalArgumentException("preset " + name + ": prompt '" + prompt.id() + "' is empty");
      prompts.add(prompt);
    }
    if (prompts.isEmpty()) throw new IllegalArgumentException("preset " + name + ": prompts is empty");
    String affinity = p.getString("affinity_policy");
    if (!AFFINITY_POLICIES.contains(affinity)) {
      throw new IllegalArgumentException("preset " + name + ": affinity_policy must be one of " + AFFINITY_POLICIES + ", not '" + affinity + "'");
    }
    var preset = new SweepPreset(name, p.getLong("seed"), p.getInt("threads"), affinity, p.getInt("warmup_steps"), p.getInt("max_tokens"),
        p.getInt("repeats"), List.copyOf(prompts));
    if (preset.threads() < 1 || preset.maxTokens() < 1 || preset.repeats() < 1 || preset.warmupSteps() < 0) {
      throw new IllegalArgumentException("preset " + name + ": threads, max_tokens and repeats must be at least 1, warmup_steps at least 0");
    }
    return preset;
  }

  /** The engine arguments {@code affinity_policy} asks for. */
  public List<String> affinityArgs() {
    return affinityPolicy.equals("pinned") ? List.of("--cpu-range", "0-" + (threads - 1), "--cpu-strict", "1") : List.of();
  }
}
