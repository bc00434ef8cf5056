package io.dalang.runtime.security;

import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A real node for the attack tests, ready to serve, with its platform-admin and demo tenant clients. */
record SecurityNode(DalangNode node, ApiClient admin, ApiClient tenant) implements AutoCloseable {
  /** Starts a node in {@code data} with the demo key {@code key} and {@code config} (HOCON; empty for the defaults). */
  static SecurityNode start(Path data, String key, String config) throws Exception {
    Path file = null;
    if (!config.isBlank()) {
      file = data.resolve("attack-test.conf");
      Files.writeString(file, config);
    }
    var node = DalangNode.start(new ServeOptions(data, 0, 0, 0, file, null, key), System.out);
    var admin = new ApiClient(node.httpPort(), Files.readString(data.resolve("admin.key")).strip());
    admin.awaitReady(Duration.ofSeconds(90));
    return new SecurityNode(node, admin, admin.withKey(key));
  }

  int port() {
    return node.httpPort();
  }

  @Override
  public void close() {
    node.close();
  }
}
