package io.dalang.runtime.chaos;

import io.dalang.runtime.serve.DalangNode;
import io.dalang.runtime.serve.ServeOptions;
import io.dalang.runtime.testing.ApiClient;
import io.dalang.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The {@link ChaosContract} on a real llama-server process: its connections really drop, its kills are real SIGKILLs. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LlamaServerChaosTest implements ChaosContract {
  static final String KEY = "chaos-ls-" + Long.toHexString(System.nanoTime());
  @TempDir static Path data;
  DalangNode node;
  ApiClient api;

  @BeforeAll
  void start() throws Exception {
    TestModels.llamaServer(); // provisioned (or found in the cache) before the node's clock starts
    node = DalangNode.start(new ServeOptions(data.resolve("d"), 0, null, 0, ChaosNodes.config(data), "llama-server", KEY), System.out);
    api = new ApiClient(node.httpPort(), KEY);
    api.awaitReady(Duration.ofSeconds(120));
  }

  @AfterAll
  void stop() {
    if (node != null) node.close();
  }

  @Override
  public Served served() {
    return new Served(node, api, "llama-server");
  }
}
