package io.dalang.engine.chaos;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.admin.AdminValidation;
import io.dalang.protocols.error.ErrorCode;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One fault to inject at the engine adapter ({@link ChaosEngine}), and when.
 *
 * <p>What: {@code delay} holds tokens back ({@code first-token-delay} before the first, {@code token-delay}
 * before each later one); {@code error} ends the run with the error {@code code} after {@code after-tokens}
 * tokens (0: before it starts), or with {@code at = start} fails the engine's start; {@code drop} drops the
 * connection to llama-server (aborts the in-process generation) after {@code after-tokens} tokens;
 * {@code kill} SIGKILLs the llama-server process (fails the in-process engine instance) after
 * {@code after-tokens} tokens of a run, so the slot's supervisor restarts it.
 *
 * <p>Where: {@code scope} is {@code all}, {@code slot:<id>} or {@code pool:<id>}. When: of the matching
 * generations (warm-ups excluded), every {@code every}-th is a candidate; a candidate is armed with
 * {@code probability} (drawn from the plan's seeded random), at most {@code count} times (0: no limit).
 */
public record Fault(Kind kind, String scope, At at, int afterTokens, long firstTokenDelayMs, long tokenDelayMs, ErrorCode code,
    double probability, int every, int count) implements CborSerializable {

  public enum Kind {
    DELAY, ERROR, DROP, KILL;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The point a fault applies to: a generation, or the engine's start. */
  public enum At {
    GENERATE, START;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static final String ALL = "all";
  static final long MAX_DELAY_MS = 600_000;
  static final int MAX_TOKENS = 1_000_000;
  private static final Set<String> KEYS = Set.of("fault", "scope", "at", "after-tokens", "first-token-delay", "token-delay", "code",
      "probability", "every", "count");

  /** Whether this fault applies to a slot of {@code poolId} named {@code slotId}. */
  public boolean matches(String slotId, String poolId) {
    return scope.equals(ALL) || scope.equals("slot:" + slotId) || scope.equals("pool:" + poolId);
  }

  /**
   * A fault from its definition: a config object ({@code dalang.chaos.faults[i]}) or a JSON object of
   * the admin API. Keys are kebab-case or snake_case alike; durations are strings like {@code "250 ms"}
   * or {@code "2 s"}, or numbers of milliseconds. Throws {@code invalid_request} naming the field.
   */
  public static Fault parse(Map<String, ?> definition, String where) {
    var d = new LinkedHashMap<String, Object>();
    definition.forEach((k, v) -> d.put(k.replace('_', '-'), v));
    for (String k : d.keySet()) {
      if (!KEYS.contains(k)) throw invalid(where, k, "unknown field; known: fault, scope, at, after_tokens, first_token_delay, token_delay, code, probability, every, count");
    }
    Kind kind = enumValue(Kind.class, where, "fault", d.get("fault"), null);
    At at = enumValue(At.class, where, "at", d.get("at"), At.GENERATE);
    String scope = scope(where, d.get("scope"));
    int afterTokens = (int) number(where, "after-tokens", d.get("after-tokens"), kind == Kind.DROP ? 1 : 0, 0, MAX_TOKENS);
    long first = duration(where, "first-token-delay", d.get("first-token-delay"));
    long perToken = duration(where, "token-delay", d.get("token-delay"));
    ErrorCode code = errorCode(where, d.get("code"));
    double probability = d.get("probability") == null ? 1.0 : fraction(where, d.get("probability"));
    int every = (int) number(where, "every", d.get("every"), 1, 1, Integer.MAX_VALUE);
    int count = (int) number(where, "count", d.get("count"), 0, 0, Integer.MAX_VALUE);
    if (kind == Kind.DELAY && first == 0 && perToken == 0) throw invalid(where, "first-token-delay", "a delay needs first_token_delay or token_delay");
    if (kind != Kind.DELAY && (first > 0 || perToken > 0)) throw invalid(where, "first-token-delay", "only a delay has delays");
    if (kind != Kind.ERROR && d.get("code") != null) throw invalid(where, "code", "only an error has a code");
    if (at == At.START && kind != Kind.ERROR) throw invalid(where, "at", "only an error can be injected at the engine's start");
    if (at == At.START && d.get("after-tokens") != null) throw invalid(where, "after-tokens", "an error at the engine's start has no tokens");
    if (kind == Kind.DELAY && d.get("after-tokens") != null) throw invalid(where, "after-tokens", "a delay applies to every token it names");
    return new Fault(kind, scope, at, afterTokens, first, perToken, kind == Kind.ERROR ? code : null, probability, every, count);
  }

  /** The definition as the admin API shows it (snake_case). */
  public Map<String, Object> describe() {
    var m = new LinkedHashMap<String, Object>();
    m.put("fault", kind.wireName());
    m.put("scope", scope);
    m.put("at", at.wireName());
    if (kind != Kind.DELAY && at == At.GENERATE) m.put("after_tokens", afterTokens);
    if (kind == Kind.DELAY) {
      m.put("first_token_delay_ms", firstTokenDelayMs);
      m.put("token_delay_ms", tokenDelayMs);
    }
    if (kind == Kind.ERROR) m.put("code", code.code());
    m.put("probability", probability);
    m.put("every", every);
    m.put("count", count);
    return m;
  }

  private static String scope(String where, Object v) {
    if (v == null) return ALL;
    String s = text(where, "scope", v);
    boolean named = (s.startsWith("slot:") || s.startsWith("pool:")) && AdminValidation.ID.matcher(s.substring(5)).matches();
    if (s.equals(ALL) || named) return s;
    throw invalid(where, "scope", "must be all, slot:<slot id> or pool:<pool id>");
  }

  private static <E extends Enum<E>> E enumValue(Class<E> type, String where, String field, Object v, E dflt) {
    if (v == null) {
      if (dflt != null) return dflt;
      throw invalid(where, field, "is required: one of " + names(type));
    }
    String s = text(where, field, v);
    return Arrays.stream(type.getEnumConstants()).filter(e -> e.name().equalsIgnoreCase(s)).findFirst()
        .orElseThrow(() -> invalid(where, field, "must be one of " + names(type)));
  }

  private static <E extends Enum<E>> java.util.List<String> names(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(e -> e.name().toLowerCase(Locale.ROOT)).toList();
  }

  private static ErrorCode errorCode(String where, Object v) {
    if (v == null) return ErrorCode.ENGINE_FAILED;
    String s = text(where, "code", v);
    return Arrays.stream(ErrorCode.values()).filter(c -> c.code().equals(s)).findFirst()
        .orElseThrow(() -> invalid(where, "code", "must be an error code of docs/api.md, e.g. engine_failed or engine_unavailable"));
  }

  private static long number(String where, String field, Object v, long dflt, long min, long max) {
    if (v == null) return dflt;
    if (!(v instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())) throw invalid(where, field, "must be a whole number");
    if (n.longValue() < min || n.longValue() > max) throw invalid(where, field, "must be between " + min + " and " + max);
    return n.longValue();
  }

  private static double fraction(String where, Object v) {
    if (!(v instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1)) throw invalid(where, "probability", "must be a number from 0 to 1");
    return n.doubleValue();
  }

  /** Milliseconds of a duration given as a number of milliseconds or a string like {@code "250 ms"}, {@code "2 s"}. */
  private static long duration(String where, String field, Object v) {
    if (v == null) return 0;
    long ms;
    if (v instanceof Number) {
      ms = number(where, field, v, 0, 0, MAX_DELAY_MS);
    } else {
      var m = java.util.regex.Pattern.compile("\\s*(\\d+)\\s*(ms|s|millis|milliseconds|seconds|second)?\\s*").matcher(text(where, field, v));
      if (!m.matches()) throw invalid(where, field, "must be a duration like \"250 ms\" or \"2 s\"");
      long amount = Long.parseLong(m.group(1).length() > 9 ? "999999999" : m.group(1));
      String unit = m.group(2) == null ? "ms" : m.group(2);
      ms = unit.startsWith("s") ? amount * 1000 : amount;
    }
    if (ms < 0 || ms > MAX_DELAY_MS) throw invalid(where, field, "must be at most " + MAX_DELAY_MS / 1000 + " s");
    return ms;
  }

  private static String text(String where, String field, Object v) {
    if (!(v instanceof String s)) throw invalid(where, field, "must be a string");
    return s.strip();
  }

  private static RuntimeException invalid(String where, String field, String message) {
    String name = where + "." + field.replace('-', '_');
    return AdminValidation.invalid(name, "'" + name + "' " + message);
  }
}
