package io.dalang.actors.admission;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class TrafficSplitTest {
  @Test
  void sendsItsShareOfRunsToTheNewVersionAndARunAlwaysToTheSameOne() {
    var split = new TrafficSplit("m@v1", "m@v2", 10);
    int next = 0;
    for (int i = 0; i < 10_000; i++) if (split.versionFor("run_" + UUID.randomUUID()).equals("m@v2")) next++;
    assertTrue(Math.abs(next - 1000) < 150, next + " of 10000 runs went to the new version, asked 10 %");
    assertEquals(split.versionFor("run_abc"), split.versionFor("run_abc"));
    // Sequential ids (not random) spread too.
    int seq = 0;
    for (int i = 0; i < 10_000; i++) if (split.versionFor("run_" + i).equals("m@v2")) seq++;
    assertTrue(Math.abs(seq - 1000) < 150, seq + " of 10000 sequential ids went to the new version");
  }
}
