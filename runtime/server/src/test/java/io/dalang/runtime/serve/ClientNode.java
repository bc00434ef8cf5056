package io.dalang.runtime.serve;

import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A node started for the tests of one client against one engine, shared by the tests of a class (a
 * start costs 15 to 30 seconds): the demo pool, one demo key, and the OpenAI base URL a client is given.
 */
final class ClientNode implements AutoCloseable {
  static final String MODEL = "dalang-demo";

  private final DalangNode node;
  private final String key;

  private ClientNode(DalangNode node, String key) {
    this.node = node;
    this.key = key;
  }

  /** A ready node on {@code engine} ({@code llama-server} or {@code llama-inprocess}) keeping its data in {@code data}. */
  static ClientNode start(Path data, String engine) throws Exception {
    // a null directory would make the node keep its data in the working directory
    java.util.Objects.requireNonNull(data, "data");
    String key = "cn-" + Long.toHexString(System.nanoTime());
    // provisioned (or found in the cache) before the node's readiness clock starts
    if (engine.equals("llama-server")) TestModels.llamaServer();
    var node = DalangNode.start(ServeOptions.forDataDir(data).withPorts(0, 0).withEngine(engine).withDemoKey(key), System.out);
    try {
      new ApiClient(node.httpPort(), key).awaitReady(Duration.ofSeconds(120));
    } catch (Exception | AssertionError e) {
      node.close();
      throw e;
    }
    return new ClientNode(node, key);
  }

  /** The base URL an OpenAI client is pointed at ({@code .../v1}). */
  String baseUrl() {
    return "http://127.0.0.1:" + node.httpPort() + "/v1";
  }

  String key() {
    return key;
  }

  @Override
  public void close() {
    node.close();
  }
}
