package io.dalang.runtime.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real HTTP client over loopback for end-to-end tests, with the few helpers they share. */
public final class ApiClient {
  public static final ObjectMapper JSON = new ObjectMapper();
  private final HttpClient http;
  private final URI base;
  private final String key;
  private final javax.net.ssl.SSLContext tls;

  public ApiClient(int port, String key) {
    this(URI.create("http://127.0.0.1:" + port), key, null);
  }

  /** A client of {@code base}; for {@code https}, {@code tls} says which server certificates it trusts (null: the JDK's). */
  public ApiClient(URI base, String key, javax.net.ssl.SSLContext tls) {
    var b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5));
    if (tls != null) b.sslContext(tls);
    this.http = b.build();
    this.base = base;
    this.key = key;
    this.tls = tls;
  }

  public ApiClient withKey(String other) {
    return new ApiClient(base, other, tls);
  }

  private HttpRequest.Builder req(String path) {
    var b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(120));
    if (key != null) b.header("Authorization", "Bearer " + key);
    return b;
  }

  public HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return http.send(req(path).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A JSON POST, with {@code headers} as name, value, name, value, ... */
  public HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
    var b = req(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) b.headers(headers);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** A JSON POST with extra headers, e.g. {@code Idempotency-Key}. */
  public HttpResponse<String> post(String path, String body, java.util.Map<String, String> headers) throws IOException, InterruptedException {
    var b = req(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(b::header);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Any method with an optional JSON body ({@code null}: none). */
  public HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
    var publisher = body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body);
    return http.send(req(path).header("Content-Type", "application/json").method(method, publisher).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  public HttpResponse<InputStream> postStream(String path, String body, String... headers) throws IOException, InterruptedException {
    var b = req(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    if (headers.length > 0) b.headers(headers);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  /** The {@code data:} payloads of an SSE body, in order. */
  public static List<String> sseData(InputStream body) throws IOException {
    var out = new ArrayList<String>();
    try (var r = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) if (line.startsWith("data: ")) out.add(line.substring(6));
    }
    return out;
  }

  public static JsonNode json(String s) throws IOException {
    return JSON.readTree(s);
  }

  /**
   * A run's record from {@code GET /v1/runs/{id}}, waiting for it: the run sends it to telemetry as it
   * ends, which may be a moment after the client saw the end.
   */
  /** {@code GET path} until its 200 answer satisfies {@code done}; that answer, or an AssertionError with the last one. */
  public JsonNode awaitJson(String path, java.util.function.Predicate<JsonNode> done, Duration timeout) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    JsonNode v = null;
    while (System.nanoTime() < end) {
      var r = get(path);
      if (r.statusCode() == 200) {
        v = json(r.body());
        if (done.test(v)) return v;
      }
      Thread.sleep(200);
    }
    throw new AssertionError(path + " did not get there within " + timeout + ": " + v);
  }

  /** The replicas of a pool body ({@code GET /admin/v1/pools/{id}}) that are Ready. */
  public static int readySlots(JsonNode pool) {
    int n = 0;
    for (JsonNode s : pool.path("slots")) if (s.path("state").asText().equals("Ready")) n++;
    return n;
  }

  public JsonNode awaitRun(String runId, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      var r = get("/v1/runs/" + runId);
      if (r.statusCode() == 200) return json(r.body());
      if (System.nanoTime() > deadline) throw new AssertionError("no record of run " + runId + " within " + timeout + ": " + r.body());
      Thread.sleep(50);
    }
  }

  /**
   * Posts a streaming request over a raw socket, reads {@code chunks} SSE events and closes the socket,
   * so that "the client went away" is unambiguous. Returns the run id from the response headers.
   */
  public String streamThenHangUp(String path, String body, int chunks) throws IOException {
    return streamThenHangUp(path, body, chunks, java.util.Map.of()).get("x-dalang-run-id");
  }

  /**
   * {@link #streamThenHangUp(String, String, int)} with extra request headers; returns the response's
   * headers, names in lower case.
   */
  public java.util.Map<String, String> streamThenHangUp(String path, String body, int chunks, java.util.Map<String, String> headers)
      throws IOException {
    try (var socket = new java.net.Socket(base.getHost(), base.getPort())) {
      rawPost(socket, path, body, headers);
      var reader = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      var response = new java.util.HashMap<String, String>();
      boolean inHeaders = true;
      int seen = 0;
      for (String line; seen < chunks && (line = reader.readLine()) != null; ) {
        if (line.isEmpty()) inHeaders = false;
        int colon = line.indexOf(':');
        if (inHeaders && colon > 0) response.put(line.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT), line.substring(colon + 1).strip());
        if (line.startsWith("data: ")) seen++;
      }
      if (seen < chunks) throw new AssertionError("the stream ended after " + seen + " of " + chunks + " events");
      return response;
    }
  }

  /**
   * The value of one series in {@code /metrics}, given as its exact Prometheus text before the value
   * (e.g. {@code dalang_runs_total{model="m",model_version="",outcome="ok"}}); 0 while the series does not exist yet.
   */
  public double metric(String series) throws IOException, InterruptedException {
    for (String line : withKey(null).get("/metrics").body().split("\n")) {
      if (line.startsWith(series + " ")) return Double.parseDouble(line.substring(series.length() + 1).strip());
    }
    return 0;
  }

  /**
   * Sends a request on a raw socket and closes the connection without reading anything: a client
   * that gives up before the response.
   */
  public void postThenHangUp(String path, String body) throws IOException {
    try (var socket = new java.net.Socket(base.getHost(), base.getPort())) {
      rawPost(socket, path, body, java.util.Map.of());
    }
  }

  /**
   * Sends a request on a raw socket, shuts down the sending half of the connection (as {@code nc -q}
   * and some proxies do), and returns everything the server sent back until it closed.
   */
  public String postHalfClosed(String path, String body) throws IOException {
    try (var socket = new java.net.Socket(base.getHost(), base.getPort())) {
      socket.setSoTimeout(60_000);
      rawPost(socket, path, body, java.util.Map.of("Connection", "close"));
      socket.shutdownOutput();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Writes a JSON {@code POST} with this client's key and {@code headers} on a raw socket. */
  private void rawPost(java.net.Socket socket, String path, String body, java.util.Map<String, String> headers) throws IOException {
    var extra = new StringBuilder();
    headers.forEach((k, v) -> extra.append(k).append(": ").append(v).append("\r\n"));
    var out = socket.getOutputStream();
    out.write(("POST " + path + " HTTP/1.1\r\nHost: " + base.getHost() + "\r\nAuthorization: Bearer " + key + "\r\n" + extra
        + "Content-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length
        + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** Waits until {@code /readyz} answers 200. */
  public void awaitReady(Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (get("/readyz").statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new AssertionError("Dalang was not ready within " + timeout);
  }
}
