package io.dalang.runtime.bench;

import io.dalang.runtime.bench.load.LoadGenerator;
import io.dalang.runtime.bench.load.LoadReport;
import io.dalang.runtime.bench.load.LoadSpec;
import io.dalang.runtime.http.Json;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalang bench load}: a load generator for any OpenAI-compatible endpoint (Dalang, vLLM, SGLang,
 * llama-server, {@code dalang sim engine}), closed loop ({@code --concurrency}) or open loop Poisson
 * ({@code --rate}), streamed or not, reporting {@code vllm bench serve}'s figures ({@link LoadReport}).
 */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Load an OpenAI-compatible endpoint (/chat/completions) and report TTFT, TPOT, ITL and end-to-end latency (p50/p90/p99/max), requests/s, output tokens/s and errors by kind.",
        "Exit code 1 if any request failed, 2 on bad arguments."})
public final class LoadBench implements Callable<Integer> {
  @Option(names = "--url", required = true, description = "API base, e.g. http://127.0.0.1:8080/v1")
  String url;

  @Option(names = "--model", required = true, description = "The model of every request")
  String model;

  @Option(names = "--api-key", description = "Bearer key (default: $OPENAI_API_KEY, else none); never printed")
  String apiKey;

  @Option(names = "--concurrency", defaultValue = "0",
      description = "Closed loop: requests in flight at a time (default 8 without --rate); with --rate: the most in flight (default: no limit)")
  int concurrency;

  @Option(names = "--rate", defaultValue = "0", description = "Open loop: Poisson arrivals, requests per second (default: closed loop)")
  double rate;

  @Option(names = "--requests", defaultValue = "0", description = "Requests to send (default 200 without --duration)")
  int requests;

  @Option(names = "--duration", defaultValue = "0", description = "Seconds to keep sending (0: until --requests were sent)")
  double duration;

  @Option(names = "--stream", defaultValue = "true", arity = "1", description = "Stream the answers (default ${DEFAULT-VALUE})")
  boolean stream;

  @Option(names = "--prompt-tokens", defaultValue = "32", description = "Words per prompt: N or A-B (uniform) (default ${DEFAULT-VALUE})")
  String promptTokens;

  @Option(names = "--max-tokens", defaultValue = "64", description = "max_tokens per request: N or A-B (uniform) (default ${DEFAULT-VALUE})")
  String maxTokens;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the prompts, the lengths and the arrivals (default ${DEFAULT-VALUE})")
  long seed;

  @Option(names = "--timeout", defaultValue = "600", description = "Seconds one request may take, answer included (default ${DEFAULT-VALUE})")
  double timeout;

  @Option(names = "--json", description = "Print one JSON object instead of the table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    LoadSpec spec;
    try {
      String key = apiKey != null ? apiKey : System.getenv("OPENAI_API_KEY");
      spec = new LoadSpec(URI.create(url), model, key, concurrency == 0 && rate == 0 ? 8 : concurrency, rate,
          requests == 0 && duration == 0 ? 200 : requests, Duration.ofMillis(Math.round(duration * 1000)), stream,
          LoadSpec.Dist.parse(promptTokens), LoadSpec.Dist.parse(maxTokens), seed, Duration.ofMillis(Math.round(timeout * 1000)));
    } catch (IllegalArgumentException e) {
      System.err.println("dalang bench load: " + e.getMessage());
      return 2;
    }
    String problem = spec.problem();
    if (problem != null) {
      System.err.println("dalang bench load: " + problem);
      return 2;
    }
    LoadReport report = new LoadGenerator(LoadGenerator.newClient()).run(spec);
    System.out.println(json ? Json.MAPPER.writeValueAsString(report.toMap()) : report.table());
    return report.errorCount() > 0 ? 1 : 0;
  }
}
