package io.dalang.runtime.testing;

import io.dalang.testing.TestModels;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real llama-server on the tiny demo model, started by a test as a process of its own (Dalang neither
 * starts nor owns it): a provider's remote for fallbacks, an upstream pool's server. Guarded by
 * {@code --api-key}; its log is appended to {@code log}. Stop and start it again on the same port to
 * make it go away and come back.
 */
public final class ExternalLlamaServer implements AutoCloseable {
  private final int port;
  private final String apiKey;
  private final Path log;
  private final List<String> extraArgs;
  private Process process;

  private ExternalLlamaServer(int port, String apiKey, Path log, List<String> extraArgs) {
    this.port = port;
    this.apiKey = apiKey;
    this.log = log;
    this.extraArgs = extraArgs;
  }

  /** Started on a free loopback port with {@code extraArgs} after the usual ones; healthy when it returns. */
  public static ExternalLlamaServer start(String apiKey, Path log, String... extraArgs) throws Exception {
    int port;
    try (var s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    var server = new ExternalLlamaServer(port, apiKey, log, List.of(extraArgs));
    server.start();
    return server;
  }

  /** Starts it (again) on its port and waits for its {@code /health}. */
  public void start() throws Exception {
    var cmd = new ArrayList<>(List.of(TestModels.llamaServerBinary().toString(), "-m", TestModels.demoModel().toString(), "--host", "127.0.0.1",
        "--port", "" + port, "-t", "1", "--api-key", apiKey));
    cmd.addAll(extraArgs);
    process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    var http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        var r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) return;
      } catch (IOException notYet) {
        // not listening yet
      }
      if (!process.isAlive() || System.nanoTime() > deadline) throw new AssertionError("llama-server did not come up: " + Files.readString(log));
      Thread.sleep(100);
    }
  }

  /** Its OpenAI API base, {@code http://127.0.0.1:PORT/v1}. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port + "/v1";
  }

  /** Stops it (SIGTERM, then waits). */
  public void stop() throws InterruptedException {
    if (process != null) {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
      process = null;
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
