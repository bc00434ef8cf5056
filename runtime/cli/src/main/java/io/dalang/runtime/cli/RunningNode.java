package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.runtime.http.HttpClients;
import io.dalang.runtime.http.Json;
import io.dalang.runtime.serve.DalangNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The {@code dalang serve} process that holds a data dir's journal, asked through its admin API over
 * loopback: its address from {@code <data-dir>/serve.url}, the key from {@code DALANG_ADMIN_KEY} or
 * {@code <data-dir>/admin.key}. Both files are the owner's only, so only the user who runs the node
 * (or root) gets this far.
 */
final class RunningNode {
  private RunningNode() {}

  /** Thrown when the node cannot be asked, or refuses; the message is for the user. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  /** {@code DALANG_ADMIN_KEY}, else {@code <dataDir>/admin.key}; null if neither. */
  static String adminKey(Path dataDir) throws IOException {
    String env = System.getenv("DALANG_ADMIN_KEY");
    if (env != null && !env.isBlank()) return env.strip();
    Path file = dataDir.resolve("admin.key");
    return Files.isRegularFile(file) ? Files.readString(file).strip() : null;
  }

  /** {@code GET path} on the node serving {@code dataDir}, as JSON. */
  static JsonNode get(Path dataDir, String path) throws Unreachable {
    try {
      return Json.MAPPER.readTree(getText(dataDir, path));
    } catch (IOException e) {
      throw new Unreachable("the node's answer to " + path + " is not JSON: " + e.getMessage());
    }
  }

  /** {@code GET path} on the node serving {@code dataDir}: the body of its 200 answer. */
  static String getText(Path dataDir, String path) throws Unreachable {
    Path urlFile = DalangNode.urlFile(dataDir);
    try {
      if (!Files.isRegularFile(urlFile)) throw new Unreachable("another process holds the journal, and " + urlFile + " does not say where it serves");
      String key = adminKey(dataDir);
      if (key == null) throw new Unreachable("a node holds the journal; its admin API needs a key: set DALANG_ADMIN_KEY or keep " + dataDir.resolve("admin.key"));
      URI uri = URI.create(Files.readString(urlFile).strip() + path);
      var req = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).header("Authorization", "Bearer " + key).GET().build();
      var resp = HttpClients.toLocalNode(dataDir).send(req, HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 200) {
        JsonNode error = Json.MAPPER.readTree(resp.body().isEmpty() ? "{}" : resp.body());
        throw new Unreachable("the node at " + uri + " answered HTTP " + resp.statusCode() + ": " + error.path("error").path("message").asText(resp.body()));
      }
      return resp.body();
    } catch (IOException e) {
      throw new Unreachable("a node holds the journal but did not answer at the address in " + urlFile + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unreachable("interrupted");
    }
  }
}
