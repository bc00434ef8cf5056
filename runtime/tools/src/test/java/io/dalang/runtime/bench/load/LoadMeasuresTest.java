package io.dalang.runtime.bench.load;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The pure parts of {@code dalang bench load}: percentiles, Poisson arrivals, SSE timing, /proc parsing. */
class LoadMeasuresTest {
  static final long MS = 1_000_000;

  @Test
  void histogramGivesNearestRankPercentilesInMilliseconds() {
    var h = new LatencyHistogram();
    for (int i = 1; i <= 100; i++) h.recordNanos(i * MS);
    assertEquals(100, h.count());
    assertEquals(50, h.percentileMs(50), 0.05);
    assertEquals(90, h.percentileMs(90), 0.1);
    assertEquals(99, h.percentileMs(99), 0.1);
    assertEquals(100, h.maxMs(), 0.1);
    assertEquals(50.5, h.meanMs(), 0.1);
    var other = new LatencyHistogram();
    other.recordNanos(1000 * MS);
    h.add(other);
    assertEquals(101, h.count());
    assertEquals(1000, h.maxMs(), 1);
  }

  @Test
  void emptyHistogramSaysNaN() {
    assertTrue(Double.isNaN(new LatencyHistogram().percentileMs(50)));
  }

  @Test
  void histogramKeepsMicroseconds() {
    var h = new LatencyHistogram();
    h.recordNanos(250_000); // 0.25 ms
    assertEquals(0.25, h.percentileMs(50), 0.001);
  }

  @Test
  void poissonGapsAverageOneOverTheRateAndRepeatForASeed() {
    var a = new Arrivals(200, 7);
    int n = 200_000;
    double sum = 0;
    long[] first = new long[5];
    for (int i = 0; i < n; i++) {
      long g = a.nextGapNanos();
      assertTrue(g >= 0);
      if (i < 5) first[i] = g;
      sum += g;
    }
    assertEquals(5 * MS, sum / n, 0.05 * MS, "mean gap 1/200 s");
    var b = new Arrivals(200, 7);
    long[] again = new long[5];
    for (int i = 0; i < 5; i++) again[i] = b.nextGapNanos();
    assertArrayEquals(first, again);
    assertThrows(IllegalArgumentException.class, () -> new Arrivals(0, 1));
  }

  @Test
  void poissonGapsAreExponential() {
    // For an exponential distribution, P(gap > mean) = 1/e.
    var a = new Arrivals(1000, 3);
    int over = 0;
    int n = 100_000;
    for (int i = 0; i < n; i++) if (a.nextGapNanos() > MS) over++;
    assertEquals(Math.exp(-1), over / (double) n, 0.01);
  }

  static ByteBuffer bytes(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  static String chunk(String content) {
    return "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + content + "\"}}]}\n\n";
  }

  @Test
  void sseChunksGiveTtftAndEveryGapBetweenOutputChunks() {
    var t = new StreamTiming(1000 * MS);
    t.onBytes(bytes("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"), 1005 * MS);
    t.onBytes(bytes(": keep-alive\n\n"), 1010 * MS);
    t.onBytes(bytes(chunk(" Once")), 1020 * MS);
    t.onBytes(bytes(chunk(" upon")), 1023 * MS);
    // a chunk split over two reads counts when its line ends
    String third = chunk(" a");
    t.onBytes(bytes(third.substring(0, 20)), 1025 * MS);
    t.onBytes(bytes(third.substring(20)), 1030 * MS);
    t.onBytes(bytes("data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":3}}\r\n\r\ndata: [DONE]\n\n"), 1031 * MS);
    assertEquals(20 * MS, t.ttftNanos());
    assertArrayEquals(new long[] {3 * MS, 7 * MS}, t.interTokenGaps());
    assertEquals(3, t.outputChunks());
    assertEquals(3, t.outputTokens());
    assertTrue(t.done());
    assertEquals(null, t.error());
  }

  @Test
  void sseWithoutUsageCountsOutputChunksAndCompletionsText() {
    var t = new StreamTiming(0);
    t.onBytes(bytes("data:{\"choices\":[{\"text\":\"a\"}]}\ndata: {\"choices\":[{\"text\":\"b\"}]}\n"), 4 * MS);
    assertEquals(2, t.outputTokens());
    assertEquals(4 * MS, t.ttftNanos());
    assertFalse(t.done());
  }

  @Test
  void sseErrorEventNamesItsCode() {
    var t = new StreamTiming(0);
    t.onBytes(bytes(chunk("x") + "data: {\"error\":{\"message\":\"lost\",\"type\":\"server_error\",\"code\":\"engine_failed\"}}\n\n"), MS);
    assertEquals("stream_error:engine_failed", t.error());
    var bad = new StreamTiming(0);
    bad.onBytes(bytes("data: {nope\n"), MS);
    assertEquals("bad_chunk", bad.error());
  }

  @Test
  void procStatGivesUserPlusSystemTimeAfterTheCommandName() {
    // comm may hold spaces and parentheses; utime 1234 and stime 66 ticks of 10 ms
    String stat = "4242 (java (a) b) S 1 4242 4242 0 -1 4194560 100 0 0 0 1234 66 0 0 20 0 40 0 555 1000000 2000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
    assertEquals(13_000 * MS, ProcStats.cpuNanosOf(stat));
    assertThrows(IllegalArgumentException.class, () -> ProcStats.cpuNanosOf("garbage"));
  }

  @Test
  void procStatusGivesVmRssInBytes() {
    String status = "Name:\tjava\nVmPeak:\t 9999 kB\nVmRSS:\t  204800 kB\nThreads:\t40\n";
    assertEquals(204800L * 1024, ProcStats.rssBytesOf(status));
  }

  @Test
  void readsThisProcessFromProc() throws Exception {
    if (!java.nio.file.Files.exists(java.nio.file.Path.of("/proc/self/stat"))) return;
    long pid = ProcessHandle.current().pid();
    assertTrue(ProcStats.cpuNanos(pid) > 0);
    assertTrue(ProcStats.rssBytes(pid) > 1 << 20);
  }

  @Test
  void lengthDistributionsAreFixedOrUniform() {
    assertEquals(new LoadSpec.Dist(64, 64), LoadSpec.Dist.parse("64"));
    var d = LoadSpec.Dist.parse("10-20");
    var r = new SplittableRandom(1);
    for (int i = 0; i < 1000; i++) {
      int v = d.draw(r);
      assertTrue(v >= 10 && v <= 20, String.valueOf(v));
    }
    assertThrows(IllegalArgumentException.class, () -> LoadSpec.Dist.parse("20-10"));
    assertThrows(IllegalArgumentException.class, () -> LoadSpec.Dist.parse("lots"));
  }
}
