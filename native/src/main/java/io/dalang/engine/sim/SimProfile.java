package io.dalang.engine.sim;

import io.dalang.protocols.CborSerializable;

/**
 * How the simulated engine behaves: a pool's {@code "simulated": {...}} and {@code dalang sim engine}'s
 * options. Timings are driven by timers, so a simulated run costs no CPU per token beyond the relay.
 *
 * @param ttftMs time from a request to its first token, in milliseconds
 * @param itlMs time between two tokens of one sequence, in milliseconds
 * @param outputTokens tokens each answer has (cut by the request's {@code max_tokens}); 0: {@code max_tokens}
 * @param errorRate the share of requests (0 to 1) that fail as an engine error after their first token time
 * @param jitter each wait is drawn uniformly within {@code ±jitter} of its value (0 to 1; 0: exact timings)
 * @param seed the seed: the same seed and the same request give the same tokens, timings and failures
 * @param maxSequences how many sequences the engine runs at once (a slot's parallelism)
 */
public record SimProfile(double ttftMs, double itlMs, int outputTokens, double errorRate, double jitter, long seed, int maxSequences)
    implements CborSerializable {
  /** The most sequences a simulated engine may run at once. */
  public static final int MAX_SEQUENCES = 100_000;
  /** The longest simulated wait, in milliseconds. */
  public static final double MAX_WAIT_MS = 600_000;
  /** The most tokens one simulated answer may have. */
  public static final int MAX_OUTPUT_TOKENS = 1_000_000;

  public static final SimProfile DEFAULT = new SimProfile(20, 5, 0, 0, 0, 0, 64);

  /** Why this profile cannot be used, or null. */
  public String problem() {
    if (!(ttftMs >= 0 && ttftMs <= MAX_WAIT_MS)) return "ttft_ms must be 0 to " + (long) MAX_WAIT_MS;
    if (!(itlMs >= 0 && itlMs <= MAX_WAIT_MS)) return "itl_ms must be 0 to " + (long) MAX_WAIT_MS;
    if (outputTokens < 0 || outputTokens > MAX_OUTPUT_TOKENS) return "output_tokens must be 0 to " + MAX_OUTPUT_TOKENS;
    if (!(errorRate >= 0 && errorRate <= 1)) return "error_rate must be 0 to 1";
    if (!(jitter >= 0 && jitter <= 1)) return "jitter must be 0 to 1";
    if (maxSequences < 1 || maxSequences > MAX_SEQUENCES) return "max_sequences must be 1 to " + MAX_SEQUENCES;
    return null;
  }
}
