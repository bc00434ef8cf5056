package io.dalang.runtime.baseline;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Which baselines a prune removes. Only unpinned ones: first those older than {@code maxAge}, then, of the
 * unpinned rest, the oldest beyond the newest {@code maxCount}. Pinned baselines are never removed and do
 * not count toward {@code maxCount}. Zero turns a limit off.
 */
public record Retention(Duration maxAge, int maxCount) {
  public Retention {
    if (maxAge.isNegative()) throw new IllegalArgumentException("max-age must not be negative: " + maxAge);
    if (maxCount < 0) throw new IllegalArgumentException("max-count must not be negative: " + maxCount);
  }

  /** A baseline a prune removes, and the rule that removes it. */
  public record Removal(Baseline baseline, String reason) {}

  public List<Removal> removals(List<Baseline> baselines, Instant now) {
    var removals = new ArrayList<Removal>();
    var kept = new ArrayList<Baseline>();
    for (Baseline b : baselines) {
      if (b.pinned()) continue;
      if (!maxAge.isZero() && b.addedAt().isBefore(now.minus(maxAge))) {
        removals.add(new Removal(b, "older than " + human(maxAge)));
      } else {
        kept.add(b);
      }
    }
    if (maxCount > 0 && kept.size() > maxCount) {
      kept.sort(Comparator.comparing(Baseline::addedAt).thenComparing(Baseline::id));
      for (Baseline b : kept.subList(0, kept.size() - maxCount)) {
        removals.add(new Removal(b, "beyond the newest " + maxCount + " unpinned"));
      }
    }
    return removals;
  }

  /** {@code 30d}, {@code 36h}, {@code 1h30m}: as the {@code --max-age} option takes it. */
  static String human(Duration d) {
    if (d.toSeconds() % 86_400 == 0) return d.toDays() + "d";
    return d.toString().substring(2).toLowerCase(Locale.ROOT);
  }
}
