package io.dalang.runtime.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.chaos.ChaosPlan;
import io.dalang.runtime.testing.ApiClient;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 19, "Hold the load": thousands of clients at once on one node, each on a connection of its own,
 * each sending one non-streaming completion. Every one must get an HTTP answer: a result, or a typed
 * {@code 429 capacity_exhausted} with {@code Retry-After}; none may be reset, closed unanswered or left
 * hanging (docs/operations.md, "Connections and overload").
 *
 * <p>Then, with the pool's queue held full, clients that come one after another are refused at once:
 * the time of such a 429 is what a client of a saturated node waits. A flood's own 429s wait behind the
 * flood's other requests, so their times measure the node's throughput instead; both are printed.
 *
 * <p>{@code -Doverload.clients=N}, {@code -Doverload.addresses=K} (clients spread over K loopback
 * addresses from 127.0.3.1; 1: all from 127.0.0.1), {@code -Doverload.rounds=R} and
 * {@code -Doverload.max-tokens=T} change the load for a measurement; the defaults are the test's.
 */
class OverloadIT {
  static final int CLIENTS = Integer.getInteger("overload.clients", 2000);
  static final int ADDRESSES = Integer.getInteger("overload.addresses", 8);
  static final int ROUNDS = Integer.getInteger("overload.rounds", 1);
  static final int PROBES = 200;
  static final int MAX_TOKENS = Integer.getInteger("overload.max-tokens", 8);
  static final String BODY = "{\"model\": \"dalang-demo\", \"prompt\": \"Hello\", \"max_tokens\": " + MAX_TOKENS + ", \"temperature\": 0}";

  /** How one client's exchange ended: an HTTP status, or how the connection failed without one. */
  record Outcome(String kind, int status, String code, String retryAfter, long sentToAnswerMillis, String why) {
    Outcome(String kind, int status, String code, String retryAfter, long sentToAnswerMillis) {
      this(kind, status, code, retryAfter, sentToAnswerMillis, "");
    }
  }

  @Test
  void everyClientOfAFloodGetsAResultOrATyped429AndNoneIsReset(@TempDir Path data) throws Exception {
    String key = "load-" + Long.toHexString(System.nanoTime());
    Path conf = data.resolve("overload.conf");
    Files.writeString(conf, System.getProperty("overload.config", "").replace(';', '\n'));
    try (var node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, conf, null, key), System.out)) {
      var api = new ApiClient(node.httpPort(), key);
      api.awaitReady(Duration.ofSeconds(90));
      byte[] request = request(key);
      for (int round = 1; round <= ROUNDS; round++) {
        List<Outcome> outcomes = flood(node.httpPort(), request);
        var report = "flood " + round + " of " + ROUNDS + ", " + report(outcomes, ADDRESSES + " address(es)");
        System.out.println(report);
        for (Outcome o : outcomes) assertAnswered(o, report);
        assertTrue(outcomes.stream().anyMatch(o -> o.status() == 200), report);
      }
      List<Outcome> probes = probesOfAFullQueue(node, request);
      var report = report(probes, "one after another, the pool's queue full");
      System.out.println(report);
      for (Outcome o : probes) {
        assertAnswered(o, report);
        assertEquals(429, o.status(), report);
      }
      long p99 = percentile(probes.stream().mapToLong(Outcome::sentToAnswerMillis).toArray(), 0.99);
      // Generous, so that a loaded build machine does not fail it; the figure itself is in docs/operations.md.
      assertTrue(p99 <= 1000, "429s of a full queue took " + p99 + " ms at p99\n" + report);
      assertEquals(200, api.post("/v1/completions", BODY).statusCode(), "the node still serves after the flood");
    }
  }

  static void assertAnswered(Outcome o, String report) {
    if (o.status() == 429) {
      assertEquals("capacity_exhausted", o.code(), report);
      assertTrue(o.retryAfter() != null && Long.parseLong(o.retryAfter()) >= 1, report);
    } else {
      assertEquals(200, o.status(), o + "\n" + report);
    }
  }

  /**
   * Holds the pool's queue full (every run's first token delayed by the chaos plan, more runs sent than its
   * sequences, lookahead and the tenant's share of the queue take), then sends {@link #PROBES} requests one
   * after another, each on a new connection.
   */
  static List<Outcome> probesOfAFullQueue(DalangNode node, byte[] request) throws Exception {
    node.chaos().apply(ChaosPlan.parse(Map.of("seed", 1, "faults", List.of(Map.of("fault", "delay", "first_token_delay", "10 s")))), "overload");
    var holders = new ArrayList<Socket>();
    try {
      for (int i = 0; i < 100; i++) {
        var s = new Socket(InetAddress.getLoopbackAddress(), node.httpPort(), InetAddress.getByName("127.0.4." + (1 + i % 8)), 0);
        s.getOutputStream().write(request);
        holders.add(s);
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (exchange("127.0.5.1", node.httpPort(), request).status() != 429) {
        assertTrue(System.nanoTime() < until, "the queue did not fill");
        Thread.sleep(100);
      }
      var probes = new ArrayList<Outcome>();
      for (int i = 0; i < PROBES; i++) probes.add(exchange("127.0.5." + (1 + i % 8), node.httpPort(), request));
      return probes;
    } finally {
      node.chaos().clear("overload");
      for (Socket s : holders) s.close(); // their runs are cancelled
    }
  }

  static byte[] request(String key) {
    return ("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key
        + "\r\nContent-Type: application/json\r\nContent-Length: " + BODY.length() + "\r\n\r\n" + BODY)
        .getBytes(StandardCharsets.ISO_8859_1);
  }

  /** All clients connect and send at once; each reads its whole answer. */
  static List<Outcome> flood(int port, byte[] request) throws InterruptedException {
    var outcomes = new Outcome[CLIENTS];
    var go = new CountDownLatch(1);
    var threads = new ArrayList<Thread>();
    for (int i = 0; i < CLIENTS; i++) {
      int n = i;
      String from = ADDRESSES <= 1 ? "127.0.0.1" : "127.0.3." + (1 + n % ADDRESSES);
      var t = new Thread(null, () -> {
        try {
          go.await();
        } catch (InterruptedException e) {
          return;
        }
        outcomes[n] = exchange(from, port, request);
      }, "client-" + n, 128 * 1024);
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) t.join(TimeUnit.MINUTES.toMillis(3));
    return List.of(outcomes);
  }

  static Outcome exchange(String from, int port, byte[] request) {
    long sent = 0;
    try (var socket = new Socket()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
      socket.setSoTimeout(90_000);
      try {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 30_000);
      } catch (IOException e) {
        return new Outcome("connect: " + e.getMessage(), 0, null, null, 0);
      }
      sent = System.nanoTime();
      socket.getOutputStream().write(request);
      socket.getOutputStream().flush();
      var in = new BufferedInputStream(socket.getInputStream());
      String status = line(in);
      if (status == null) return new Outcome("closed without an answer", 0, null, null, millisSince(sent));
      var headers = new HashMap<String, String>();
      for (String l; (l = line(in)) != null && !l.isEmpty(); ) {
        int colon = l.indexOf(':');
        headers.put(l.substring(0, colon).strip().toLowerCase(Locale.ROOT), l.substring(colon + 1).strip());
      }
      byte[] body = in.readNBytes(Integer.parseInt(headers.getOrDefault("content-length", "0")));
      long millis = millisSince(sent);
      int code = Integer.parseInt(status.split(" ")[1]);
      String errorCode = null;
      String why = "";
      if (code >= 400) {
        JsonNode e = ApiClient.json(new String(body, StandardCharsets.UTF_8)).path("error");
        errorCode = e.path("code").asText(null);
        String m = e.path("message").asText("");
        why = m.contains("connections") ? "connections" : m.contains("tenant-share") ? "tenant share" : m.contains("busy") ? "queue" : m;
      }
      return new Outcome("http", code, errorCode, headers.get("retry-after"), millis, why);
    } catch (SocketTimeoutException e) {
      return new Outcome("timed out", 0, null, null, millisSince(sent));
    } catch (IOException e) {
      String m = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
      return new Outcome(m.contains("reset") ? "reset" : "io: " + e.getMessage(), 0, null, null, sent == 0 ? 0 : millisSince(sent));
    }
  }

  static long millisSince(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
  }

  static String line(InputStream in) throws IOException {
    var b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != -1; ) {
      if (c == '\n') return b.toString(StandardCharsets.ISO_8859_1).stripTrailing();
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  /** Counts by outcome, and the time from request to answer (p50, p99, max) of each. */
  static String report(List<Outcome> outcomes, String how) {
    var groups = new TreeMap<String, List<Long>>();
    for (Outcome o : outcomes) {
      String k = o.kind().equals("http") ? o.status() + (o.code() == null ? "" : " " + o.code() + " (" + o.why() + ")") : o.kind();
      groups.computeIfAbsent(k, x -> new ArrayList<>()).add(o.sentToAnswerMillis());
    }
    var s = new StringBuilder("overload: " + outcomes.size() + " clients, " + how + "\n");
    groups.forEach((k, ms) -> {
      long[] a = ms.stream().mapToLong(Long::longValue).toArray();
      s.append(String.format(Locale.ROOT, "  %-40s %5d   ms p50 %6d  p99 %6d  max %6d%n", k, a.length,
          percentile(a, 0.5), percentile(a, 0.99), percentile(a, 1.0)));
    });
    return s.toString();
  }

  static long percentile(long[] values, double p) {
    if (values.length == 0) return 0;
    long[] a = values.clone();
    java.util.Arrays.sort(a);
    return a[Math.min(a.length - 1, Math.max(0, (int) Math.ceil(p * a.length) - 1))];
  }
}
