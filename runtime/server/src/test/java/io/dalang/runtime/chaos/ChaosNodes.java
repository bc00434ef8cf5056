package io.dalang.runtime.chaos;

import java.nio.file.Files;
import java.nio.file.Path;

/** The configuration of the chaos tests' nodes: chaos off until a test puts faults in force, quick retries and restarts. */
final class ChaosNodes {
  private ChaosNodes() {}

  static Path config(Path dir) throws java.io.IOException {
    Path conf = dir.resolve("chaos.conf");
    Files.writeString(conf, """
        dalang.demo.parallel = 2
        dalang.runs.stall-timeout = 2 s
        dalang.jobs { min-backoff = 50 ms, max-backoff = 200 ms }
        dalang.engine.restart { min-backoff = 200 ms, max-backoff = 1 s }
        """);
    return conf;
  }
}
