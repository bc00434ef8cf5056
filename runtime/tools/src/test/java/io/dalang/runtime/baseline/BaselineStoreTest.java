package io.dalang.runtime.baseline;

import static io.dalang.runtime.sweep.Summaries.provenance;
import static io.dalang.runtime.sweep.Summaries.summary;
import static io.dalang.runtime.sweep.Summaries.variant;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.sweep.Summaries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaselineStoreTest {
  static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

  @TempDir Path tmp;

  Path dir() {
    return tmp.resolve("baselines");
  }

  /** The store as it is at {@code daysAgo} days before {@link #NOW}. */
  BaselineStore daysAgo(int days) {
    return new BaselineStore(dir(), Clock.fixed(NOW.minus(Duration.ofDays(days)), ZoneOffset.UTC));
  }

  BaselineStore now() {
    return daysAgo(0);
  }

  /** Records a sweep {@code id} as it was {@code days} ago, pinned or not. */
  void baseline(String id, int days, boolean pinned) throws Exception {
    SweepSummary s = summary(id, "Q4_K_M", provenance(), variant("F16", 10, 20, 1.0, 300, 32));
    daysAgo(days).record(s, Summaries.write(s, tmp.resolve(id + ".src.json")));
    if (pinned) now().pin(id, null);
  }

  List<String> ids() throws IOException {
    return now().list().stream().map(Baseline::id).toList();
  }

  @Test
  void recordCopiesTheSummaryBesideASidecarAndListPinUnpinRoundTrip() throws Exception {
    SweepSummary s = summary("sweep-a", "Q4_K_M", provenance(), variant("F16", 10, 20, 1.0, 300, 32));
    Path src = Summaries.write(s, tmp.resolve("a.json"));
    Path stored = daysAgo(3).record(s, src);
    assertEquals(dir().resolve("sweep-a.json"), stored);
    assertArrayEquals(Files.readAllBytes(src), Files.readAllBytes(stored));
    assertTrue(Files.readString(dir().resolve("sweep-a.meta.json")).contains("\"added_at\" : \"2025-05-29T12:00:00Z\""));

    assertEquals(List.of(new Baseline("sweep-a", NOW.minus(Duration.ofDays(3)), false, null, stored)), now().list());
    assertEquals(new Baseline("sweep-a", NOW.minus(Duration.ofDays(3)), true, "release", stored), now().pin("sweep-a", "release"));
    assertEquals(new Baseline("sweep-a", NOW.minus(Duration.ofDays(3)), false, "release", stored), now().unpin("sweep-a"));
    now().pin("sweep-a", null);

    // Recording the same sweep again replaces the copy, keeps when it was added, its pin and its label.
    now().record(s, src);
    assertEquals(List.of(new Baseline("sweep-a", NOW.minus(Duration.ofDays(3)), true, "release", stored)), now().list());
    try (var files = Files.list(dir())) {
      assertEquals(List.of("sweep-a.json", "sweep-a.meta.json"), files.map(f -> f.getFileName().toString()).sorted().toList(),
          "no temporary file left behind");
    }
  }

  @Test
  void pruneNeverRemovesAPinnedBaselineEvenOverAgeAndCount() throws Exception {
    baseline("old-pinned-1", 100, true);
    baseline("old-pinned-2", 90, true);
    baseline("old-1", 80, false);
    baseline("new-1", 2, false);
    baseline("new-2", 1, false);
    var removed = now().prune(new Retention(Duration.ofDays(30), 1), false);
    assertEquals(List.of("old-1 older than 30d", "new-1 beyond the newest 1 unpinned"),
        removed.stream().map(r -> r.baseline().id() + " " + r.reason()).toList());
    assertEquals(List.of("old-pinned-1", "old-pinned-2", "new-2"), ids());
    assertFalse(Files.exists(dir().resolve("old-1.meta.json")));
    assertFalse(Files.exists(dir().resolve("old-1.json")));
  }

  @Test
  void theAgeRuleRemovesOnlyUnpinnedBaselinesOlderThanMaxAge() throws Exception {
    baseline("d40", 40, false);
    baseline("d31", 31, false);
    baseline("d29", 29, false);
    baseline("d1", 1, false);
    now().prune(new Retention(Duration.ofDays(30), 0), false);
    assertEquals(List.of("d29", "d1"), ids());
  }

  @Test
  void theCountRuleKeepsTheNewestUnpinnedAndPinnedOnesDoNotCount() throws Exception {
    baseline("pinned-old", 50, true);
    for (int d = 5; d >= 1; d--) baseline("d" + d, d, false);
    baseline("pinned-new", 0, true);
    now().prune(new Retention(Duration.ZERO, 2), false);
    assertEquals(List.of("pinned-old", "d2", "d1", "pinned-new"), ids());
  }

  @Test
  void aDryRunSaysWhatWouldGoAndRemovesNothing() throws Exception {
    baseline("d40", 40, false);
    baseline("d1", 1, false);
    var would = now().prune(new Retention(Duration.ofDays(30), 20), true);
    assertEquals(List.of("d40"), would.stream().map(r -> r.baseline().id()).toList());
    assertEquals(List.of("d40", "d1"), ids());
  }

  @Test
  void anUnknownOrPathLikeIdIsUnknown() throws Exception {
    baseline("sweep-a", 1, false);
    assertThrows(BaselineStore.UnknownBaseline.class, () -> now().pin("sweep-b", null));
    assertThrows(BaselineStore.UnknownBaseline.class, () -> now().unpin("../baselines/sweep-a"));
    assertThrows(IOException.class, () -> now().record(summary("../escape", null, provenance(), variant("F16", 1, 1, 1, 1, 1)),
        dir().resolve("sweep-a.json")));
  }

  @Test
  void aSummaryWithoutItsSidecarCountsAsUnpinnedAddedWhenLastModified() throws Exception {
    Files.createDirectories(dir());
    SweepSummary s = summary("by-hand", null, provenance(), variant("F16", 10, 20, 1.0, 300, 32));
    Path f = Summaries.write(s, dir().resolve("by-hand.json"));
    Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.from(NOW.minus(Duration.ofDays(60))));
    Baseline b = now().list().get(0);
    assertEquals(NOW.minus(Duration.ofDays(60)), b.addedAt());
    assertFalse(b.pinned());
    assertNull(b.label());
    now().prune(new Retention(Duration.ofDays(30), 0), false);
    assertEquals(List.of(), ids());
  }

  @Test
  void anUnreadableSidecarStopsPruneBeforeItRemovesAnything() throws Exception {
    baseline("d40", 40, false);
    baseline("pinned", 50, true);
    Files.writeString(dir().resolve("pinned.meta.json"), "{\"added_at\": ");
    var e = assertThrows(IOException.class, () -> now().prune(new Retention(Duration.ofDays(30), 0), false));
    assertTrue(e.getMessage().startsWith("cannot read " + dir().resolve("pinned.meta.json")), e.getMessage());
    assertTrue(Files.exists(dir().resolve("d40.json")));
    assertTrue(Files.exists(dir().resolve("pinned.json")));
  }
}
