package io.dalang.runtime.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.testing.ApiClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * 10,000 malformed requests (bodies, headers, paths, request lines) from a seeded generator across every
 * public route, with a valid key, a wrong one and none, against a real node over loopback
 * (docs/security.md, "The HTTP edge"). Every answer must be a 2xx (a request the fuzz left valid, e.g. a
 * read with odd but harmless headers) or a typed 4xx with the JSON error body; never a 5xx, never a
 * connection closed or reset without an answer; and the node must serve a valid request after.
 *
 * <p>An IT (Failsafe, {@code verify}): the 10,000 requests take 20 s to well over a minute depending on
 * the machine's load, more than a unit test should.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EdgeFuzzIT {
  static final long SEED = 15;
  static final int REQUESTS = 10_000;
  static final String KEY = "fuzz-" + Long.toHexString(System.nanoTime());
  static final String CHAT = """
      {"model": "dalang-demo", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0}""";
  @TempDir static Path data;
  SecurityNode node;
  String adminKey;

  @BeforeAll
  void start() throws Exception {
    node = SecurityNode.start(data, KEY, "");
    adminKey = java.nio.file.Files.readString(data.resolve("admin.key")).strip();
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  /** A route: method, path template ({} is a fuzzed segment), whether it takes a body, whether it is the admin API. */
  record Route(String method, String path, boolean body, boolean admin) {}

  static final List<Route> ROUTES = List.of(
      new Route("POST", "/v1/chat/completions", true, false),
      new Route("POST", "/v1/completions", true, false),
      new Route("GET", "/v1/models", false, false),
      new Route("GET", "/v1/models/{}", false, false),
      new Route("GET", "/v1/runs/{}", false, false),
      new Route("POST", "/v1/jobs", true, false),
      new Route("GET", "/v1/jobs/{}", false, false),
      new Route("GET", "/v1/placements/{}", false, false),
      new Route("GET", "/v1/capabilities", false, false),
      new Route("POST", "/admin/v1/tenants", true, true),
      new Route("GET", "/admin/v1/tenants/{}", false, true),
      new Route("POST", "/admin/v1/tenants/{}/keys", true, true),
      new Route("PUT", "/admin/v1/tenants/demo/fallbacks", true, true),
      new Route("POST", "/admin/v1/tenants/{}/keys/{}/rotate", true, true),
      new Route("PUT", "/admin/v1/tenants/demo/secrets/{}/{}", true, true),
      new Route("POST", "/admin/v1/providers", true, true),
      new Route("POST", "/admin/v1/tenants/demo/providers", true, true),
      new Route("DELETE", "/admin/v1/tenants/demo/providers/{}", false, true),
      new Route("POST", "/admin/v1/pools", true, true),
      new Route("GET", "/admin/v1/audit", false, true));

  static final String[] WRONG_VALUES = {"{}", "[]", "null", "\"\"", "-1", "1e400", "[[[]]]", "{\"a\": {\"b\": []}}", "\"\\u0000\"",
      "99999999999999999999999", "true"};
  static final String[] FIELDS = {"model", "messages", "prompt", "max_tokens", "temperature", "stop", "stream", "n", "top_p", "seed",
      "id", "display_name", "pools", "key_id", "role", "targets", "value", "name", "base_url", "api_key", "request", "kind"};

  final Random random = new Random(SEED);

  String pick(String... options) {
    return options[random.nextInt(options.length)];
  }

  String segment() {
    return switch (random.nextInt(6)) {
      case 0 -> "x".repeat(1 + random.nextInt(300));
      case 1 -> "%00%ff%2e%2e";
      case 2 -> "..";
      case 3 -> "run-" + Long.toHexString(random.nextLong());
      case 4 -> "%E2%9C%93" + random.nextInt(1000);
      default -> pick("demo", "platform", "a", "-", "_", "%20");
    };
  }

  /** A body no route accepts. */
  byte[] body() {
    String json = switch (random.nextInt(11)) {
      case 0 -> "";
      case 1 -> null;
      case 2 -> CHAT.substring(0, random.nextInt(CHAT.length() - 1)); // cut short
      case 3 -> CHAT.replace("\"" + pick("model", "messages", "max_tokens", "temperature") + "\": ", "\"" + pick("model", "messages", "max_tokens", "temperature") + "\": " + pick(WRONG_VALUES) + ", \"x\": ");
      case 4 -> "[".repeat(50 + random.nextInt(2000)) + "]".repeat(random.nextInt(50));
      case 5 -> pick("[]", "null", "42", "\"x\"", "true", "{", "}", "{\"\":}", "{'a': 1}");
      case 6 -> "{\"" + pick(FIELDS) + "\": " + pick(WRONG_VALUES) + "}";
      case 7 -> "{\"model\": \"dalang-demo\", \"messages\": " + pick("[]", "[{}]", "[{\"role\": \"bogus\", \"content\": \"x\"}]",
          "[{\"role\": \"user\", \"content\": {}}]", "\"hi\"") + "}";
      case 8 -> "{\"model\": \"dalang-demo\", \"prompt\": \"x\", \"max_tokens\": " + pick("-5", "\"many\"", "{}", "1.5e12") + "}";
      case 9 -> "{\"id\": " + pick(WRONG_VALUES) + ", \"display_name\": " + pick(WRONG_VALUES) + ", \"role\": {}, \"targets\": 7}";
      default -> "{\"" + "k".repeat(random.nextInt(100)) + "\": \"\\ud800\"," + "}";
    };
    if (json == null) {
      byte[] b = new byte[random.nextInt(300)];
      random.nextBytes(b);
      return b;
    }
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    if (b.length > 0 && random.nextInt(10) == 0) b[random.nextInt(b.length)] = (byte) (0x80 + random.nextInt(0x7f)); // bad UTF-8
    return b;
  }

  String authorization(boolean admin) {
    return switch (random.nextInt(8)) {
      case 0, 1, 2 -> "Bearer " + (admin ? adminKey : KEY);
      case 3 -> "Bearer dlg-" + Long.toHexString(random.nextLong());
      case 4 -> pick("Basic Zm9vOmJhcg==", "Bearer", "Bearer  ", "bearer " + KEY, "Token x", "Bearer " + "A".repeat(5000));
      case 5 -> "Bearer " + (admin ? KEY : adminKey); // the other kind of key
      default -> null;
    };
  }

  /** One malformed request, as bytes on the wire. */
  byte[] request() {
    Route r = ROUTES.get(random.nextInt(ROUTES.size()));
    String path = r.path();
    while (path.contains("{}")) path = path.replaceFirst("\\{}", segment());
    if (random.nextInt(8) == 0) path += "?" + pick("limit=-1", "limit=x", "outcome=%zz", "namespace=" + "n".repeat(200), "a=1&a=2", "&&&=");
    String method = random.nextInt(12) == 0 ? pick("DELETE", "PATCH", "OPTIONS", "PUT", "GET", "POST", "BREW") : r.method();
    var headers = new TreeMap<String, String>(String.CASE_INSENSITIVE_ORDER);
    String auth = authorization(r.admin());
    if (auth != null) headers.put("Authorization", auth);
    byte[] body = r.body() || random.nextInt(10) == 0 ? body() : null;
    if (body != null) {
      headers.put("Content-Type", random.nextInt(6) == 0 ? pick("text/plain", "application/xml", "garbage/;;", "application/json; charset=latin1") : "application/json");
    }
    switch (random.nextInt(12)) {
      case 0 -> headers.put("x-dalang-priority", pick("urgent", "", "INTERACTIVE ", "batch\u0001"));
      case 1 -> headers.put("x-dalang-deadline-ms", pick("-5", "abc", "99999999999999999999", "1e3", ""));
      case 2 -> headers.put("Idempotency-Key", pick("", "k".repeat(3000), "é", "a b"));
      case 3 -> headers.put("X-Filler", "v".repeat(9000)); // over max-header-value-length
      case 4 -> {
        for (int i = 0; i < 70; i++) headers.put("X-Many-" + i, "1"); // over max-header-count
      }
      case 5 -> headers.put("Content-Encoding", pick("gzip", "br", "identity, gzip"));
      case 6 -> headers.put("Transfer-Encoding", "chunked, identity"); // nonsense framing
      default -> { }
    }
    var out = new ByteArrayOutputStream();
    String line = switch (random.nextInt(40)) {
      case 0 -> method + " " + path + " HTTP/9.9";
      case 1 -> method + " " + path;
      case 2 -> method + "  " + path + " HTTP/1.1";
      case 3 -> method + " /" + "u".repeat(5000) + " HTTP/1.1";
      default -> method + " " + path + " HTTP/1.1";
    };
    write(out, line + "\r\nHost: 127.0.0.1\r\n");
    headers.forEach((k, v) -> write(out, k + ": " + v + "\r\n"));
    if (random.nextInt(40) == 0) write(out, "no colon in this header line\r\n");
    if (body != null && !headers.containsKey("Transfer-Encoding")) write(out, "Content-Length: " + body.length + "\r\n");
    write(out, "\r\n");
    if (body != null && !headers.containsKey("Transfer-Encoding")) out.writeBytes(body);
    return out.toByteArray();
  }

  static void write(ByteArrayOutputStream out, String s) {
    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void tenThousandMalformedRequestsGetOnlyTypedAnswersAndTheNodeStillServes() throws Exception {
    var statuses = new TreeMap<Integer, Integer>();
    var failures = new ArrayList<String>();
    // A handful of client addresses, so that the wrong keys are also throttled per address as they would be.
    RawHttp connection = null;
    for (int i = 0; i < REQUESTS && failures.size() < 5; i++) {
      byte[] request = request();
      if (connection == null) connection = new RawHttp("127.0.2." + (1 + i % 8), node.port());
      RawHttp.Response r;
      try {
        r = connection.exchange(request);
      } catch (IOException e) {
        failures.add("#" + i + " no answer (" + e + ") to: " + head(request));
        connection.close();
        connection = null;
        continue;
      }
      statuses.merge(r.status(), 1, Integer::sum);
      if (r.status() < 300 && !head(request).startsWith("GET")) System.out.println("EdgeFuzzIT: accepted #" + i + ": " + head(request));
      String problem = problem(r);
      if (problem != null) failures.add("#" + i + " " + problem + " to: " + head(request));
      if ("close".equalsIgnoreCase(r.headers().get("connection")) || r.status() >= 400 && random.nextInt(20) == 0) {
        connection.close();
        connection = null;
      }
    }
    if (connection != null) connection.close();
    System.out.println("EdgeFuzzIT: statuses " + statuses);
    if (!failures.isEmpty()) fail("statuses " + statuses + "\n" + String.join("\n", failures));
    int typed4xx = statuses.entrySet().stream().filter(e -> e.getKey() >= 400 && e.getKey() < 500).mapToInt(Map.Entry::getValue).sum();
    assertTrue(typed4xx > REQUESTS * 9 / 10, "statuses " + statuses);
    assertEquals(200, node.tenant().post("/v1/chat/completions", CHAT).statusCode());
  }

  /** What is wrong with an answer, or null. */
  static String problem(RawHttp.Response r) {
    if (r.status() >= 200 && r.status() < 300) return null;
    if (r.status() < 400 || r.status() >= 500) return "status " + r.status() + " " + r.body();
    try {
      JsonNode e = ApiClient.json(r.body()).get("error");
      if (e == null || !e.hasNonNull("code") || !e.hasNonNull("message") || !e.hasNonNull("type")) return "untyped " + r.status() + " " + r.body();
    } catch (IOException notJson) {
      return "not JSON: " + r.status() + " " + r.body();
    }
    return null;
  }

  static String head(byte[] request) {
    String s = new String(request, 0, Math.min(request.length, 300), StandardCharsets.ISO_8859_1);
    return s.replaceAll("Bearer [^\\r]*", "Bearer …").replace("\r\n", " | ");
  }
}
