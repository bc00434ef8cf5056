package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.generation.GenerationRequest;

/**
 * What a job generates: a validated chat or completion request for {@code model}. Each attempt runs
 * it under its own run id ({@link #forRun}).
 */
public record JobRequest(String model, GenerationRequest generation) implements CborSerializable {

  public boolean chat() {
    return generation.isChat();
  }

  /** The request bytes the job keeps in the journal: prompt or messages, and stop strings (UTF-8). */
  public long storedBytes() {
    var g = generation;
    long n = g.prompt() == null ? 0 : utf8(g.prompt());
    if (g.messages() != null) for (var m : g.messages()) n += utf8(m.role()) + utf8(m.content());
    if (g.stop() != null) for (String s : g.stop()) n += utf8(s);
    return n;
  }

  private static long utf8(String s) {
    return s == null ? 0 : s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  public GenerationRequest forRun(String runId) {
    var g = generation;
    return new GenerationRequest(runId, g.prompt(), g.messages(), g.maxTokens(), g.temperature(), g.topP(), g.seed(), g.stop());
  }
}
