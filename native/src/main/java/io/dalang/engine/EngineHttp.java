package io.dalang.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executors;

/** The JDK HTTP client for engines' health checks and remote endpoints, with its timeouts, and the one JSON mapper. */
public final class EngineHttp {
  public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  public static final ObjectMapper JSON = new ObjectMapper();

  static {
    // llama-server drops idle keep-alive connections after about 5 s; let ours (its health checks) go
    // sooner, so a check rarely lands on a connection the server is closing. Generations do not use
    // this client: LoopbackSseCall opens a connection per stream.
    if (System.getProperty("jdk.httpclient.keepalive.timeout") == null) System.setProperty("jdk.httpclient.keepalive.timeout", "3");
  }

  public static final HttpClient CLIENT = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(CONNECT_TIMEOUT)
      .executor(Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "engine-http");
        t.setDaemon(true);
        return t;
      }))
      .build();

  private EngineHttp() {}
}
