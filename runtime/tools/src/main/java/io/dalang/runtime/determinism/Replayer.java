package io.dalang.runtime.determinism;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.runtime.http.HttpClients;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Sends corpus entries through a node's real HTTP API, streaming or not, and reads back what the
 * client got (the content pieces in order, or the whole text) and the run's record from
 * {@code GET /v1/runs/{id}}.
 */
final class Replayer {
  private static final Duration RECORD_TIMEOUT = Duration.ofSeconds(30);
  private final ObjectMapper json;
  private final HttpClient http = HttpClients.create();
  private final URI edge;
  private final String key;
  private final String model;

  Replayer(ObjectMapper json, URI edge, String key, String model) {
    this.json = json;
    this.edge = edge;
    this.key = key;
    this.model = model;
  }

  /**
   * What one replay got: {@code pieces} are the streamed content pieces (one, the whole text, for a
   * non-streaming request); {@code error} is set when the request failed, and {@code record} is null when
   * no run record came.
   */
  record Replay(String runId, boolean stream, List<String> pieces, String error, JsonNode record) {
    String text() {
      return String.join("", pieces);
    }
  }

  Replay replay(Corpus.Entry e, boolean stream) throws IOException, InterruptedException {
    var body = new LinkedHashMap<>(e.body(model));
    body.put("stream", stream);
    var req = request(e.path()).header("Content-Type", "application/json").timeout(Duration.ofMinutes(5))
        .POST(HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body))).build();
    var resp = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
    String runId = resp.headers().firstValue("x-dalang-run-id").orElse(null);
    var pieces = new ArrayList<String>();
    String error = null;
    try (var in = new BufferedReader(new InputStreamReader(resp.body(), StandardCharsets.UTF_8))) {
      if (resp.statusCode() != 200) {
        error = "HTTP " + resp.statusCode() + ": " + errorOf(in.lines().reduce("", String::concat));
      } else if (stream) {
        error = readStream(in, e.chat(), pieces);
      } else {
        JsonNode choice = json.readTree(in).path("choices").path(0);
        pieces.add((e.chat() ? choice.path("message").path("content") : choice.path("text")).asText(""));
      }
    }
    return new Replay(runId, stream, List.copyOf(pieces), error, runId == null ? null : record(runId));
  }

  /** Reads an SSE body's content pieces into {@code pieces}; returns the error it carried, if any. */
  private String readStream(BufferedReader in, boolean chat, List<String> pieces) throws IOException {
    String error = null;
    boolean done = false;
    for (String line; (line = in.readLine()) != null; ) {
      if (!line.startsWith("data: ")) continue;
      String data = line.substring(6).trim();
      if (data.equals("[DONE]")) {
        done = true;
        break;
      }
      JsonNode chunk = json.readTree(data);
      if (chunk.has("error")) {
        error = errorOf(data);
        continue;
      }
      JsonNode choice = chunk.path("choices").path(0);
      JsonNode content = chat ? choice.path("delta").path("content") : choice.path("text");
      if (content.isTextual() && !content.asText().isEmpty()) pieces.add(content.asText());
    }
    return error != null || done ? error : "the stream ended without [DONE]";
  }

  private String errorOf(String body) {
    try {
      JsonNode err = json.readTree(body).path("error");
      if (err.isObject()) return err.path("code").asText("error") + ": " + err.path("message").asText("");
    } catch (IOException notJson) {
      // the body as it is
    }
    return body.length() > 200 ? body.substring(0, 200) + "…" : body;
  }

  /** The run's record; the run writes it as it ends, which may be a moment after the client saw the end. */
  private JsonNode record(String runId) throws IOException, InterruptedException {
    var req = request("/v1/runs/" + runId).GET().build();
    long deadline = System.nanoTime() + RECORD_TIMEOUT.toNanos();
    while (true) {
      var r = http.send(req, HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) return json.readTree(r.body());
      if (System.nanoTime() > deadline) return null;
      Thread.sleep(20);
    }
  }

  /** Waits until the node's {@code /readyz} answers 200: a slot is Ready. */
  void awaitReady(Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      try {
        var r = http.send(HttpRequest.newBuilder(edge.resolve("/readyz")).timeout(Duration.ofSeconds(5)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
        last = "/readyz " + r.statusCode() + " " + r.body();
      } catch (IOException e) {
        last = e.toString();
      }
      Thread.sleep(100);
    }
    throw new IOException("the node was not ready within " + timeout.toSeconds() + " s (" + last + ")");
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(edge.resolve(path)).header("Authorization", "Bearer " + key);
  }
}
