package io.dalang.runtime.kpi;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * A KPI policy ({@code config/kpi/default.conf}): the service levels a sweep must meet. Read strictly: an
 * unknown key, a missing one or a wrong value is an error naming it, so a typo cannot switch a gate off.
 *
 * @param requireRecommendation the sweep must recommend a variant
 * @param slos the service levels, in the file's order
 */
public record KpiPolicy(boolean requireRecommendation, List<Slo> slos) {
  static final String REQUIRE_RECOMMENDATION = "require_recommendation";
  private static final Set<String> TOP_KEYS = Set.of(REQUIRE_RECOMMENDATION, "slos");
  private static final Set<String> SLO_KEYS = Set.of("name", "metric", "applies_to", "min", "max");

  /** The variants an SLO applies to besides a variant's own name. */
  public static final String RECOMMENDED = "recommended";
  public static final String REFERENCE = "reference";
  public static final String ALL = "all";

  /**
   * One service level: {@code metric} of the variants {@code appliesTo} names lies within [{@code min},
   * {@code max}] (either may be null, not both).
   *
   * @param appliesTo {@code recommended}, {@code reference}, {@code all} or a variant's name
   */
  public record Slo(String name, KpiMetric metric, String appliesTo, Double min, Double max) {
    /** The bounds as people read them: {@code min 0.9}, {@code max 800}, {@code min 1, max 2}. */
    public String bounds() {
      return min != null && max != null ? "min " + KpiCheck.number(min) + ", max " + KpiCheck.number(max)
          : min != null ? "min " + KpiCheck.number(min) : "max " + KpiCheck.number(max);
    }
  }

  /** A policy that cannot be used; the message names the file and the key. */
  public static final class BadPolicy extends Exception {
    public BadPolicy(String message) {
      super(message);
    }
  }

  public static KpiPolicy read(Path file) throws BadPolicy {
    if (!Files.isRegularFile(file)) throw new BadPolicy("policy " + file + " does not exist");
    try {
      return parse(ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve());
    } catch (ConfigException e) {
      // Typesafe Config's messages start with the file and line.
      throw new BadPolicy("bad policy " + e.getMessage());
    } catch (BadPolicy e) {
      throw new BadPolicy("bad policy " + file + ": " + e.getMessage());
    }
  }

  /** Reads a parsed policy; errors name the key ({@code slos[1].metric}) but not the file. */
  public static KpiPolicy parse(Config c) throws BadPolicy {
    unknownKeys(c, TOP_KEYS, "");
    boolean require = c.hasPath(REQUIRE_RECOMMENDATION) && c.getBoolean(REQUIRE_RECOMMENDATION);
    if (!c.hasPath("slos")) throw new BadPolicy("slos is missing (a list of { name, metric, applies_to, min and/or max })");
    List<? extends Config> list = c.getConfigList("slos");
    var slos = new ArrayList<Slo>();
    var names = new HashSet<String>();
    for (int i = 0; i < list.size(); i++) {
      Slo slo = slo(list.get(i), "slos[" + i + "]");
      if (!names.add(slo.name())) throw new BadPolicy("slos[" + i + "].name: '" + slo.name() + "' is used twice; names must be unique");
      slos.add(slo);
    }
    return new KpiPolicy(require, List.copyOf(slos));
  }

  private static Slo slo(Config c, String at) throws BadPolicy {
    unknownKeys(c, SLO_KEYS, at + ".");
    String name = required(c, "name", at);
    String metricKey = required(c, "metric", at);
    String appliesTo = required(c, "applies_to", at);
    KpiMetric metric;
    try {
      metric = KpiMetric.parse(metricKey);
    } catch (IllegalArgumentException e) {
      throw new BadPolicy(at + ".metric: " + e.getMessage());
    }
    Double min = bound(c, "min", at);
    Double max = bound(c, "max", at);
    if (min == null && max == null) throw new BadPolicy(at + " (" + name + "): give min, max or both");
    if (min != null && max != null && min > max) throw new BadPolicy(at + " (" + name + "): min " + min + " is above max " + max);
    return new Slo(name, metric, appliesTo, min, max);
  }

  private static String required(Config c, String key, String at) throws BadPolicy {
    if (!c.hasPath(key)) throw new BadPolicy(at + "." + key + " is missing");
    try {
      String value = c.getString(key);
      if (value.isBlank()) throw new BadPolicy(at + "." + key + " is empty");
      return value;
    } catch (ConfigException.WrongType e) {
      throw new BadPolicy(at + "." + key + ": expected a string, not " + c.getValue(key).valueType().name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  private static Double bound(Config c, String key, String at) throws BadPolicy {
    if (!c.hasPath(key)) return null;
    try {
      return c.getDouble(key);
    } catch (ConfigException.WrongType e) {
      throw new BadPolicy(at + "." + key + ": '" + c.getValue(key).unwrapped() + "' is not a number");
    }
  }

  private static void unknownKeys(Config c, Set<String> known, String at) throws BadPolicy {
    var unknown = new TreeSet<>(c.root().keySet());
    unknown.removeAll(known);
    if (!unknown.isEmpty()) {
      throw new BadPolicy("unknown key " + at + unknown.first() + "; known keys: " + String.join(", ", new TreeSet<>(known)));
    }
  }
}
