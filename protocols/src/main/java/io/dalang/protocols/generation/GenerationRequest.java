package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;
import java.util.List;

/**
 * What an engine is asked to generate, in Dalang's canonical form whatever API it came from. Exactly
 * one of {@code prompt} (completions) and {@code messages} (chat) is set.
 *
 * @param seed null lets the engine choose; a fixed seed with temperature 0 gives a repeatable stream
 */
public record GenerationRequest(
    String runId,
    String prompt,
    List<ChatMessage> messages,
    int maxTokens,
    double temperature,
    double topP,
    Long seed,
    List<String> stop)
    implements CborSerializable {

  public boolean isChat() {
    return messages != null;
  }
}
