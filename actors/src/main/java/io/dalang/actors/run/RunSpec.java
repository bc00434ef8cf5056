package io.dalang.actors.run;

import io.dalang.protocols.generation.GenerationRequest;
import java.util.Set;

/** One accepted request, authenticated and validated, as the edge hands it to a {@link RunActor}. */
public record RunSpec(
    String tenantId,
    Set<String> pools,
    String modelId,
    GenerationRequest request,
    boolean stream,
    long receivedAtNanos,
    long receivedAtEpochMs) {

  public String runId() {
    return request.runId();
  }
}
