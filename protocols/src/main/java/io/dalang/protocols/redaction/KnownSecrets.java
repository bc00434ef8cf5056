package io.dalang.protocols.redaction;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Secret values this process has seen in clear (decrypted tenant secrets, the demo key), so that the
 * {@link Redactor} can scrub them from any text even when they have no recognizable shape. A secret
 * can be any string; no pattern would find it in a provider's error message, so the redactor looks for
 * the exact values.
 *
 * <p>Values shorter than {@link #MIN_LENGTH} are not remembered: scrubbing every occurrence of a
 * three-letter word would wreck the logs without protecting much. At most {@code capacity} values are
 * kept, the oldest forgotten first. The set holds the plaintext in memory, where the secret already is
 * while in use; it never writes it anywhere.
 */
public final class KnownSecrets {
  /** The process-wide set the log converter and {@link Redaction#current()} use. */
  public static final KnownSecrets GLOBAL = new KnownSecrets(1024);

  public static final int MIN_LENGTH = 8;

  private final int capacity;
  /** Insertion order, for forgetting the oldest. */
  private final List<String> order = new ArrayList<>();
  /** Copy-on-write, longest first so that a secret containing another is scrubbed whole. */
  private volatile String[] values = new String[0];

  public KnownSecrets(int capacity) {
    if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1");
    this.capacity = capacity;
  }

  /** Remembers {@code value} so that it is scrubbed from now on; ignores null and short values. */
  public synchronized void remember(String value) {
    if (value == null || value.length() < MIN_LENGTH || order.contains(value)) return;
    order.add(value);
    if (order.size() > capacity) order.remove(0);
    publish();
  }

  /** Stops scrubbing {@code value} (e.g. a test's own values). */
  public synchronized void forget(String value) {
    if (order.remove(value)) publish();
  }

  private void publish() {
    String[] v = order.toArray(new String[0]);
    Arrays.sort(v, Comparator.comparingInt(String::length).reversed());
    values = v;
  }

  boolean isEmpty() {
    return values.length == 0;
  }

  /** {@code text} with every remembered value replaced; the same instance when none occurs. */
  String scrub(String text, String replacement) {
    String out = text;
    for (String v : values) out = out.replace(v, replacement);
    return out;
  }
}
