package io.dalang.runtime.serve;

import java.nio.file.Path;

/**
 * What {@code dalang serve} was asked for. Null fields keep the configured value.
 *
 * @param clusterPort 0 picks a free port
 * @param engine {@code llama-inprocess} or {@code llama-server} for the demo pool
 * @param demoKey the demo tenant's key; null: {@code DALANG_DEMO_KEY} or a random one
 * @param backend {@code dalang.engine.backend}: auto, cpu, vulkan or cuda; null keeps the configured one
 */
public record ServeOptions(
    Path dataDir, Integer httpPort, Integer grpcPort, Integer clusterPort, Path configFile, String engine, String demoKey,
    String backend) {

  public ServeOptions(Path dataDir, Integer httpPort, Integer grpcPort, Integer clusterPort, Path configFile, String engine, String demoKey) {
    this(dataDir, httpPort, grpcPort, clusterPort, configFile, engine, demoKey, null);
  }

  public static ServeOptions forDataDir(Path dataDir) {
    return new ServeOptions(dataDir, null, null, null, null, null, null);
  }

  public ServeOptions withPorts(int http, int cluster) {
    return new ServeOptions(dataDir, http, grpcPort, cluster, configFile, engine, demoKey, backend);
  }

  public ServeOptions withEngine(String e) {
    return new ServeOptions(dataDir, httpPort, grpcPort, clusterPort, configFile, e, demoKey, backend);
  }

  public ServeOptions withDemoKey(String k) {
    return new ServeOptions(dataDir, httpPort, grpcPort, clusterPort, configFile, engine, k, backend);
  }

  public ServeOptions withBackend(String b) {
    return new ServeOptions(dataDir, httpPort, grpcPort, clusterPort, configFile, engine, demoKey, b);
  }
}
