package io.dalang.engine.sim;

import io.dalang.protocols.generation.ChatMessage;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.SplittableRandom;

/**
 * Every choice a simulated generation makes, drawn in a fixed order from one PRNG seeded by the
 * profile's seed, the request's own seed (when it has one) and the request's content: whether it fails,
 * its first-token wait, then for each step one word per choice and the wait before the next step. The
 * same profile and request therefore give the same words, waits and failure, whatever the jitter (a
 * wait's draw is made even when the jitter is 0, so the words do not depend on it).
 */
final class SimScript {
  /**
   * The words a simulated answer is made of, each with its leading space, so that a text is their plain
   * concatenation; no word contains another's text, so a stop string that is one word stops only on it.
   */
  static final String[] VOCABULARY = {
      " the", " model", " runs", " on", " a", " simulated", " engine", " with", " timers", " and", " no", " weights",
      " every", " token", " is", " drawn", " from", " seed", " so", " same", " request", " gives", " text", " twice",
      " quick", " brown", " fox", " jumps", " over", " lazy", " dog", " river", " tree", " stone", " cloud", " light",
      " north", " south", " east", " west", " blue", " green", " red", " small", " large", " early", " late", " here"};

  private final SplittableRandom random;
  private final SimProfile profile;

  SimScript(SimProfile profile, GenerationRequest request) {
    this.profile = profile;
    this.random = new SplittableRandom(seedOf(profile, request));
  }

  /** Whether the generation fails at its first-token time: the first draw. */
  boolean fails() {
    return random.nextDouble() < profile.errorRate();
  }

  /** The wait before the first token, in nanoseconds: the second draw. */
  long ttftNanos() {
    return jittered(profile.ttftMs());
  }

  /** The next word of the answer. */
  String nextWord() {
    return VOCABULARY[random.nextInt(VOCABULARY.length)];
  }

  /** The wait before the next step's tokens, in nanoseconds. */
  long itlNanos() {
    return jittered(profile.itlMs());
  }

  /** A value between 0 (inclusive) and 1, for embeddings and scores. */
  double nextUnit() {
    return random.nextDouble();
  }

  private long jittered(double ms) {
    double u = random.nextDouble() * 2 - 1;
    return Math.max(0, Math.round(ms * (1 + profile.jitter() * u) * 1_000_000));
  }

  /** The PRNG's seed: the profile's and the request's seeds and a digest of what the request says. */
  static long seedOf(SimProfile profile, GenerationRequest request) {
    long h = mix(profile.seed());
    if (request.seed() != null) h = mix(h ^ request.seed());
    h = mix(h ^ hash(request.prompt()));
    if (request.messages() != null) {
      for (ChatMessage m : request.messages()) {
        h = mix(h ^ hash(m.role()));
        h = mix(h ^ hash(m.content()));
      }
    }
    if (request.embedding() != null) {
      h = mix(h ^ hash(request.embedding().query()));
      for (String t : request.embedding().texts()) h = mix(h ^ hash(t));
    }
    return h;
  }

  /** Roughly how many tokens {@code text} is: its whitespace-separated words (counted without allocating). */
  static int words(String text) {
    if (text == null) return 0;
    int n = 0;
    boolean inWord = false;
    for (int i = 0; i < text.length(); i++) {
      boolean space = Character.isWhitespace(text.charAt(i));
      if (!space && !inWord) n++;
      inWord = !space;
    }
    return n;
  }

  /** The prompt's token count as the simulated engine reports it: its words, at least 1. */
  static int promptTokens(GenerationRequest request) {
    int n = words(request.prompt());
    if (request.messages() != null) for (ChatMessage m : request.messages()) n += words(m.content()) + 1; // +1: the role's turn marker
    if (request.embedding() != null) {
      n += words(request.embedding().query());
      for (String t : request.embedding().texts()) n += words(t);
    }
    return Math.max(1, n);
  }

  // String.hashCode is specified by the JLS, so the seed is the same on every JVM.
  private static long hash(String s) {
    return s == null ? 0x9E3779B97F4A7C15L : s.hashCode() * 0xC2B2AE3D27D4EB4FL + s.length();
  }

  /** SplitMix64's finalizer: spreads every input bit over the whole word. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
