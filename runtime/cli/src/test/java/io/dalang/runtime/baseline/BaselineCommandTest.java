package io.dalang.runtime.baseline;

import static io.dalang.runtime.sweep.Summaries.provenance;
import static io.dalang.runtime.sweep.Summaries.summary;
import static io.dalang.runtime.sweep.Summaries.variant;
import static io.dalang.runtime.testing.DalangCli.dalang;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.sweep.Summaries;
import io.dalang.runtime.testing.DalangCli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dalang baseline ...} run in-process on a data dir in a temp dir. */
class BaselineCommandTest {
  @TempDir Path data;

  Path summaryFile(String id) throws Exception {
    SweepSummary s = summary(id, "Q4_K_M", provenance(), variant("F16", 10, 20, 1.0, 300, 32), variant("Q4_K_M", 10, 40, 0.95, 200, 20));
    return Summaries.write(s, data.resolve(id + ".src.json"));
  }

  /** A baseline added {@code days} ago (the CLI adds with the real clock). */
  void addedDaysAgo(String id, int days) throws Exception {
    var store = new BaselineStore(data.resolve("baselines"), Clock.fixed(Instant.now().minus(Duration.ofDays(days)), ZoneOffset.UTC));
    Path f = summaryFile(id);
    store.record(io.dalang.runtime.sweep.SummaryFiles.read(f), f);
  }

  @Test
  void addListPinAndUnpinThroughTheDataDir() throws Exception {
    String d = data.toString();
    Run add = dalang("baseline", "add", summaryFile("sweep-a").toString(), "--label", "nightly", "--data-dir", d);
    assertEquals(0, add.code(), add.err());
    assertEquals("added sweep-a as " + data.resolve("baselines").resolve("sweep-a.json") + "\n", add.out());

    Run list = dalang("baseline", "list", "--data-dir", d);
    assertEquals(0, list.code(), list.err());
    String row = list.out().lines().skip(1).findFirst().orElseThrow();
    assertTrue(row.matches("sweep-a +\\S+Z +no +nightly +tiny-cpu +Q4_K_M"), row);

    Run pin = dalang("baseline", "pin", "sweep-a", "--label", "release", "--data-dir", d);
    assertEquals("pinned sweep-a (release)\n", pin.out());
    JsonNode json = Json.MAPPER.readTree(dalang("baseline", "list", "--json", "--data-dir", d).out());
    assertEquals(1, json.size());
    assertTrue(json.get(0).get("pinned").asBoolean());
    assertEquals("release", json.get(0).get("label").asText());
    assertEquals("Q4_K_M", json.get(0).get("recommendation").asText());

    assertEquals("unpinned sweep-a\n", dalang("baseline", "unpin", "sweep-a", "--data-dir", d).out());
    assertTrue(dalang("baseline", "list", "--data-dir", d).out().contains(" no "));
  }

  @Test
  void anUnknownIdOrAnUnusableSummaryExitsTwoWithOneLine() throws Exception {
    Run pin = dalang("baseline", "pin", "nope", "--data-dir", data.toString());
    assertEquals(2, pin.code());
    assertEquals("dalang baseline pin: no baseline 'nope' in " + data.resolve("baselines") + " (see `dalang baseline list`)\n", pin.err());
    Run add = dalang("baseline", "add", data.resolve("missing.json").toString(), "--data-dir", data.toString());
    assertEquals(2, add.code());
    assertEquals("dalang baseline add: " + data.resolve("missing.json") + " does not exist\n", add.err());
    assertEquals("no baselines in " + data.resolve("baselines") + "\n", dalang("baseline", "list", "--data-dir", data.toString()).out());
  }

  @Test
  void pruneUsesTheConfiguredRetentionUnlessFlagsSayOtherwiseAndADryRunKeepsAll() throws Exception {
    addedDaysAgo("d45", 45);
    addedDaysAgo("d40", 40);
    addedDaysAgo("d3", 3);
    addedDaysAgo("d2", 2);
    addedDaysAgo("d1", 1);
    assertEquals(0, dalang("baseline", "pin", "d45", "--data-dir", data.toString()).code());

    Run dry = dalang("baseline", "prune", "--dry-run", "--data-dir", data.toString());
    assertEquals(0, dry.code(), dry.err());
    assertTrue(dry.out().startsWith("would remove d40 (added "), dry.out());
    assertTrue(dry.out().endsWith("dry run, would remove 1, kept 4 (1 pinned); max-age 30d, max-count 20\n"), dry.out());
    assertTrue(Files.exists(data.resolve("baselines/d40.json")));

    Path conf = Files.writeString(data.resolve("keep-two.conf"), "dalang.baselines.max-count = 2");
    Run pruned = dalang("baseline", "prune", "--config", conf.toString(), "--max-age", "1000d", "--data-dir", data.toString());
    assertEquals(0, pruned.code(), pruned.err());
    assertTrue(pruned.out().contains("removed d40 (added "), pruned.out());
    assertTrue(pruned.out().contains("beyond the newest 2 unpinned)\n"), pruned.out());
    assertTrue(pruned.out().endsWith("removed 2, kept 3 (1 pinned); max-age 1000d, max-count 2\n"), pruned.out());
    JsonNode left = Json.MAPPER.readTree(dalang("baseline", "list", "--json", "--data-dir", data.toString()).out());
    assertEquals("d45 d2 d1", String.join(" ", left.findValuesAsText("id")));

    Run bad = dalang("baseline", "prune", "--max-age", "soon", "--data-dir", data.toString());
    assertEquals(2, bad.code());
    assertTrue(bad.err().contains("'soon' is not a duration"), bad.err());
  }
}
