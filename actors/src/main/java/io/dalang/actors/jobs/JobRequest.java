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

  public GenerationRequest forRun(String runId) {
    var g = generation;
    return new GenerationRequest(runId, g.prompt(), g.messages(), g.maxTokens(), g.temperature(), g.topP(), g.seed(), g.stop());
  }
}
