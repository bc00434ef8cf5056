package io.dalang.runtime.http;

import io.dalang.runtime.tls.EdgeTls;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The one way Dalang's own clients (the CLI, the tools) build a JDK HTTP client to a node's edge or an
 * engine: HTTP/1.1 (the edges and llama-server speak it; no h2c upgrade attempts), 5 s to connect.
 * Engines' health checks keep their own client ({@code EngineHttp}) with shorter keep-alive.
 */
public final class HttpClients {
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

  private HttpClients() {}

  /** A builder with Dalang's settings, for callers that add their own executor. */
  public static HttpClient.Builder builder() {
    return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT);
  }

  public static HttpClient create() {
    return builder().build();
  }

  /** To the node serving {@code dataDir}: trusts its self-signed edge certificate when {@code dalang.http.tls = self-signed}. */
  public static HttpClient toLocalNode(Path dataDir) throws IOException {
    var builder = builder();
    EdgeTls.localClientContext(dataDir).ifPresent(builder::sslContext);
    return builder.build();
  }
}
