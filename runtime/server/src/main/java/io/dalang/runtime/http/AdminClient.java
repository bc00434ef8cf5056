package io.dalang.runtime.http;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Calls to a running node's admin API with a key, for the CLI and the tools: JSON in, JSON out, a typed refusal for anything but 2xx. */
public final class AdminClient {
  /** The node answered, but not with 2xx; the message is {@code HTTP <status>: <the error's message>}. */
  public static final class Refused extends IOException {
    private static final long serialVersionUID = 1L;
    private final int status;

    Refused(int status, String message) {
      super("HTTP " + status + ": " + message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  private final URI node;
  private final String key;
  private final HttpClient http;

  /** @param http a client that trusts the node ({@link HttpClients#toLocalNode}) */
  public AdminClient(String url, String key, HttpClient http) {
    this.node = URI.create(url.replaceAll("/+$", ""));
    this.key = key;
    this.http = http;
  }

  /** {@code method path} with {@code body} as JSON (none when null); the answer's JSON. */
  public JsonNode send(String method, String path, Object body) throws IOException, InterruptedException {
    var b = HttpRequest.newBuilder(URI.create(node + path)).timeout(Duration.ofMinutes(2)).header("Authorization", "Bearer " + key);
    if (body != null) b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofByteArray(Json.bytes(body)));
    else b.method(method, HttpRequest.BodyPublishers.noBody());
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode answer = Json.MAPPER.readTree(r.body().isEmpty() ? "{}" : r.body());
    if (r.statusCode() / 100 != 2) throw new Refused(r.statusCode(), answer.path("error").path("message").asText(r.body()));
    return answer;
  }
}
