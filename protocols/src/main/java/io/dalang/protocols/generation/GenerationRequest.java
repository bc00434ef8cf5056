package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;
import java.util.List;

/**
 * What an engine is asked to generate, in Dalang's canonical form whatever API it came from. Exactly
 * one of {@code prompt} (completions) and {@code messages} (chat) is set.
 *
 * @param seed null lets the engine choose; a fixed seed with temperature 0 gives a repeatable stream
 * @param options tools, output format, log probabilities, choices, penalties ({@link GenerationOptions#NONE}
 *     for plain generation; null in requests stored before options existed reads as that)
 */
public record GenerationRequest(
    String runId,
    String prompt,
    List<ChatMessage> messages,
    int maxTokens,
    double temperature,
    double topP,
    Long seed,
    List<String> stop,
    GenerationOptions options)
    implements CborSerializable {

  public GenerationRequest {
    if (options == null) options = GenerationOptions.NONE;
  }

  /** Plain generation: no tools, free text, one choice. */
  public GenerationRequest(String runId, String prompt, List<ChatMessage> messages, int maxTokens, double temperature, double topP,
      Long seed, List<String> stop) {
    this(runId, prompt, messages, maxTokens, temperature, topP, seed, stop, GenerationOptions.NONE);
  }

  public boolean isChat() {
    return messages != null;
  }

  /** The same request under another run id (a retry or a fallback attempt). */
  public GenerationRequest withRunId(String id) {
    return new GenerationRequest(id, prompt, messages, maxTokens, temperature, topP, seed, stop, options);
  }
}
