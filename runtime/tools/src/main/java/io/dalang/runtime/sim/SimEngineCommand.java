package io.dalang.runtime.sim;

import io.dalang.engine.sim.SimProfile;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang sim engine}: the simulated engine as a standalone OpenAI-compatible server
 * ({@link SimEngineServer}), a stand-in for a vLLM or llama-server upstream that costs no GPU. It prints
 * {@code sim engine listening on http://HOST:PORT/v1} once it serves, and runs until stopped.
 */
@Command(name = "engine", mixinStandardHelpOptions = true,
    description = "Serve the simulated engine over an OpenAI-compatible HTTP API (no model, no GPU; timings and words from a seed).")
public final class SimEngineCommand implements Callable<Integer> {
  @Option(names = "--port", defaultValue = "8000", description = "Port to listen on; 0: any free one (default: ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}); the API has no authentication")
  String host;

  @Option(names = "--model", defaultValue = "sim", description = "The model name it serves and /v1/models lists (default: ${DEFAULT-VALUE})")
  String model;

  @Option(names = "--ttft-ms", defaultValue = "20", description = "Time to the first token, ms (default: ${DEFAULT-VALUE})")
  double ttftMs;

  @Option(names = "--itl-ms", defaultValue = "5", description = "Time between tokens, ms (default: ${DEFAULT-VALUE})")
  double itlMs;

  @Option(names = "--output-tokens", defaultValue = "0", description = "Tokens per answer, cut by max_tokens; 0: max_tokens (default: ${DEFAULT-VALUE})")
  int outputTokens;

  @Option(names = "--error-rate", defaultValue = "0", description = "Share of requests (0 to 1) that fail with an engine error at their first-token time (default: ${DEFAULT-VALUE})")
  double errorRate;

  @Option(names = "--jitter", defaultValue = "0", description = "Each wait drawn uniformly within ±jitter of its value (0 to 1) (default: ${DEFAULT-VALUE})")
  double jitter;

  @Option(names = "--seed", defaultValue = "0", description = "Seed of the words, waits and failures (default: ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--max-sequences", defaultValue = "64", description = "Requests that run at once; more wait (default: ${DEFAULT-VALUE})")
  int maxSequences;

  @Option(names = "--verbose", description = "Show the server's own logs")
  boolean verbose;

  @Override
  public Integer call() throws Exception {
    var profile = new SimProfile(ttftMs, itlMs, outputTokens, errorRate, jitter, seed, maxSequences);
    String problem = profile.problem();
    if (problem != null) {
      System.err.println("dalang sim engine: " + problem.replace('_', '-').replaceFirst("^", "--"));
      return 2;
    }
    if (!verbose) io.dalang.runtime.cli.QuietLogs.install();
    var stopped = new CountDownLatch(1);
    try (var server = SimEngineServer.start(profile, model, host, port)) {
      Runtime.getRuntime().addShutdownHook(new Thread(stopped::countDown, "sim-engine-stop"));
      System.out.println("sim engine listening on " + server.baseUrl());
      System.out.flush();
      stopped.await();
    }
    return 0;
  }
}
