package io.dalang.engine.chaos;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.admin.AdminValidation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The faults a node injects, and the seed of their random draws: the same plan, seed and sequence of
 * runs arm the same faults. {@link #NONE} injects nothing.
 */
public record ChaosPlan(long seed, List<Fault> faults) implements CborSerializable {
  public static final ChaosPlan NONE = new ChaosPlan(0, List.of());
  /** More faults than any drill needs; bounds the admin API's input. */
  static final int MAX_FAULTS = 64;

  public ChaosPlan {
    faults = List.copyOf(faults);
  }

  /**
   * A plan from {@code {"seed": 7, "faults": [...]}} (the admin API's body, or {@code dalang.chaos}
   * unwrapped). Throws {@code invalid_request} naming the field.
   */
  public static ChaosPlan parse(Map<String, ?> definition) {
    for (String k : definition.keySet()) {
      if (!Set.of("seed", "faults", "enabled").contains(k)) throw AdminValidation.invalid(k, "unknown field '" + k + "'; known: seed, faults");
    }
    Object seed = definition.get("seed");
    if (seed != null && !(seed instanceof Integer || seed instanceof Long)) throw AdminValidation.invalid("seed", "'seed' must be a whole number");
    Object list = definition.get("faults");
    if (!(list instanceof List<?> items)) throw AdminValidation.invalid("faults", "'faults' is required: a list of faults");
    if (items.size() > MAX_FAULTS) throw AdminValidation.invalid("faults", "'faults' holds at most " + MAX_FAULTS + " faults");
    var faults = new ArrayList<Fault>();
    for (int i = 0; i < items.size(); i++) {
      if (!(items.get(i) instanceof Map<?, ?> m)) throw AdminValidation.invalid("faults[" + i + "]", "'faults[" + i + "]' must be an object");
      @SuppressWarnings("unchecked")
      Map<String, ?> fault = (Map<String, ?>) m;
      faults.add(Fault.parse(fault, "faults[" + i + "]"));
    }
    return new ChaosPlan(seed == null ? 0 : ((Number) seed).longValue(), faults);
  }
}
