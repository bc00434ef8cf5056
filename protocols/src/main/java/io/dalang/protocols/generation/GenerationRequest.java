package io.dalang.protocols.generation;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.dalang.protocols.CborSerializable;
import java.util.List;
import java.util.Set;

/**
 * What an engine is asked to generate, in Dalang's canonical form whatever API it came from. Exactly
 * one of {@code prompt} (completions), {@code messages} (chat) and {@code embedding} (embeddings, rerank)
 * is set. An embedding run takes the same path as a generation (admission, quotas, placement, the
 * slot's engine, telemetry); its engine answers {@code Started → Embedded|Scored → End}.
 *
 * @param seed null lets the engine choose; a fixed seed with temperature 0 gives a repeatable stream
 * @param options tools, output format, log probabilities, choices, penalties ({@link GenerationOptions#NONE}
 *     for plain generation; null in requests stored before options existed reads as that)
 * @param embedding the texts to embed or the query and documents to score; null for a generation
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
    GenerationOptions options,
    EmbeddingInput embedding)
    implements CborSerializable {

  public GenerationRequest {
    if (options == null) options = GenerationOptions.NONE;
  }

  /** Plain generation: no tools, free text, one choice. */
  public GenerationRequest(String runId, String prompt, List<ChatMessage> messages, int maxTokens, double temperature, double topP,
      Long seed, List<String> stop) {
    this(runId, prompt, messages, maxTokens, temperature, topP, seed, stop, GenerationOptions.NONE, null);
  }

  public GenerationRequest(String runId, String prompt, List<ChatMessage> messages, int maxTokens, double temperature, double topP,
      Long seed, List<String> stop, GenerationOptions options) {
    this(runId, prompt, messages, maxTokens, temperature, topP, seed, stop, options, null);
  }

  /** An embedding or rerank run: nothing is sampled, so no token budget and no sampler settings. */
  public static GenerationRequest of(String runId, EmbeddingInput embedding) {
    return new GenerationRequest(runId, null, null, 0, 0, 1, null, List.of(), GenerationOptions.NONE, embedding);
  }

  /** What the run asks of its slot: generation, embeddings or reranking. */
  @JsonIgnore
  public RunTask task() {
    return embedding == null ? RunTask.GENERATE : embedding.task();
  }

  /** The engine features the run needs: placement sends it only to a slot whose engine has them all. */
  @JsonIgnore
  public Set<String> extensions() {
    return switch (task()) {
      case GENERATE -> options.extensions();
      case EMBED -> Set.of(GenerationOptions.EMBEDDINGS);
      case RERANK -> Set.of(GenerationOptions.RERANK);
    };
  }

  public boolean isChat() {
    return messages != null;
  }

  /** The same request under another run id (a retry or a fallback attempt). */
  public GenerationRequest withRunId(String id) {
    return new GenerationRequest(id, prompt, messages, maxTokens, temperature, topP, seed, stop, options, embedding);
  }
}
