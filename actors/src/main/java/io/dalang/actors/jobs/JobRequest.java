package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.generation.GenerationOptions;
import io.dalang.protocols.generation.GenerationRequest;
import java.time.Instant;
import java.util.List;

/**
 * What a job generates: a validated chat or completion request for {@code model}. Each attempt runs
 * it under its own run id ({@link #forRun}).
 *
 * @param bodyDroppedAt when the request's prompt, messages and stop strings were dropped
 *     ({@code dalang.jobs.body-ttl} after the job ended), null while it has them
 */
public record JobRequest(String model, GenerationRequest generation, Instant bodyDroppedAt) implements CborSerializable {

  public JobRequest(String model, GenerationRequest generation) {
    this(model, generation, null);
  }

  public boolean hasBody() {
    return bodyDroppedAt == null;
  }

  /**
   * The request without its prompt, messages, stop strings, tools and output schema: only its kind and
   * sampling settings are kept.
   */
  JobRequest withoutBody(Instant at) {
    var g = generation;
    var o = g.options();
    var kept = new GenerationOptions(null, null, o.parallelToolCalls(), null, o.logprobs(), o.topLogprobs(), o.choices(),
        o.presencePenalty(), o.frequencyPenalty(), java.util.Map.of());
    var empty = new GenerationRequest(g.runId(), g.isChat() ? null : "", g.isChat() ? List.of() : null, g.maxTokens(), g.temperature(),
        g.topP(), g.seed(), List.of(), kept);
    return new JobRequest(model, empty, at);
  }

  public boolean chat() {
    return generation.isChat();
  }

  /** The request bytes the job keeps in the journal: prompt or messages, stop strings, tools and schema (UTF-8). */
  public long storedBytes() {
    var g = generation;
    long n = g.prompt() == null ? 0 : utf8(g.prompt());
    if (g.messages() != null) {
      for (var m : g.messages()) n += utf8(m.role()) + utf8(m.content()) + utf8(m.toolCalls()) + utf8(m.toolCallId()) + utf8(m.name());
    }
    if (g.stop() != null) for (String s : g.stop()) n += utf8(s);
    n += utf8(g.options().tools()) + utf8(g.options().toolChoice()) + utf8(g.options().responseFormat());
    return n;
  }

  private static long utf8(String s) {
    return s == null ? 0 : s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  public GenerationRequest forRun(String runId) {
    return generation.withRunId(runId);
  }
}
