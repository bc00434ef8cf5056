package io.dalang.runtime.engine;

import com.typesafe.config.Config;
import io.dalang.engine.chaos.Chaos;
import io.dalang.engine.chaos.ChaosPlan;
import io.dalang.protocols.error.DalangException;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads {@code dalang.chaos} into the node's fault-injection switchboard, counting injections in {@code dalang_chaos_faults_total}. */
public final class ChaosConfig {
  private static final Logger log = LoggerFactory.getLogger(ChaosConfig.class);

  private ChaosConfig() {}

  /**
   * {@code dalang.chaos}.
   *
   * @param enabled {@code enabled}: whether the faults listed are injected from the start
   * @param plan {@code seed} and {@code faults}: what would be injected
   */
  public record Settings(boolean enabled, ChaosPlan plan) {
    public static Settings from(Config config) {
      Config c = config.getConfig("dalang.chaos");
      try {
        return new Settings(c.getBoolean("enabled"), ChaosPlan.parse(Map.of("seed", c.getLong("seed"), "faults", c.getList("faults").unwrapped())));
      } catch (DalangException e) {
        throw new IllegalArgumentException("dalang.chaos: " + e.getMessage(), e);
      }
    }
  }

  /** The node's switchboard, with {@code settings}' faults switched on if they are enabled. */
  public static Chaos start(Settings settings, MeterRegistry metrics) {
    var chaos = new Chaos((kind, slot) -> metrics.counter("dalang_chaos_faults", "fault", kind.wireName(), "slot", slot).increment());
    var plan = settings.plan();
    if (settings.enabled()) chaos.apply(plan, "dalang.chaos.enabled = true");
    else if (!plan.faults().isEmpty()) log.info("dalang.chaos lists {} fault(s) but is disabled: none is injected", plan.faults().size());
    return chaos;
  }
}
