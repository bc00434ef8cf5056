package io.dalang.runtime.bench.load;

import java.net.URI;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * What one load run sends: where, how much and how fast.
 *
 * @param baseUrl the API base, e.g. {@code http://127.0.0.1:8000/v1}; requests go to {@code {base}/chat/completions}
 * @param model the {@code model} of every request
 * @param apiKey the bearer key; null or empty for none
 * @param concurrency closed loop: requests in flight at a time, each answer starting the next; with a
 *     {@code rate}, the most in flight (0: no limit)
 * @param rate open loop: Poisson arrivals per second; 0 for the closed loop
 * @param requests requests to send; 0: until {@code duration} has passed
 * @param duration how long to keep sending; zero: until {@code requests} were sent
 * @param stream whether to ask for SSE ({@code "stream": true}, with {@code stream_options.include_usage})
 * @param promptTokens words in each prompt (the simulated engine and most tokenizers count about a token a word)
 * @param maxTokens {@code max_tokens} of each request
 * @param seed seed of the prompts, the lengths and the arrivals
 * @param timeout the most one request may take, answer included; then it counts as a {@code timeout}
 */
public record LoadSpec(URI baseUrl, String model, String apiKey, int concurrency, double rate, int requests, Duration duration,
    boolean stream, Dist promptTokens, Dist maxTokens, long seed, Duration timeout) {

  /** What is wrong with this spec, or null. */
  public String problem() {
    if (rate < 0 || Double.isNaN(rate)) return "--rate must be 0 or above";
    if (rate == 0 && concurrency < 1) return "--concurrency must be at least 1 (or give a --rate)";
    if (concurrency < 0) return "--concurrency must not be negative";
    if (requests < 0) return "--requests must not be negative";
    if (requests == 0 && duration.isZero()) return "give --requests or --duration";
    if (promptTokens.min() < 1) return "--prompt-tokens must be at least 1";
    if (maxTokens.min() < 1) return "--max-tokens must be at least 1";
    if (!"http".equals(baseUrl.getScheme()) && !"https".equals(baseUrl.getScheme())) return "--url must be http:// or https://";
    return null;
  }

  public LoadSpec withRequests(int n, int concurrency) {
    return new LoadSpec(baseUrl, model, apiKey, concurrency, rate, n, duration, stream, promptTokens, maxTokens, seed, timeout);
  }

  /** A count drawn per request: {@code N} (always N) or {@code A-B} (uniform from A to B, both included). */
  public record Dist(int min, int max) {
    public static Dist parse(String text) {
      String t = text.strip();
      int dash = t.indexOf('-', 1);
      try {
        if (dash < 0) {
          int n = Integer.parseInt(t);
          return new Dist(n, n);
        }
        int a = Integer.parseInt(t.substring(0, dash).strip());
        int b = Integer.parseInt(t.substring(dash + 1).strip());
        if (b < a) throw new IllegalArgumentException("'" + text + "': the upper bound is below the lower");
        return new Dist(a, b);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + text + "' is neither N nor A-B");
      }
    }

    public int draw(SplittableRandom random) {
      return min == max ? min : random.nextInt(min, max + 1);
    }

    @Override
    public String toString() {
      return min == max ? String.valueOf(min) : min + "-" + max;
    }
  }
}
