package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;

/**
 * The canonical event stream of one generation: {@code Started → Token* → End}, or {@code Failed}
 * at any point. Every engine emits exactly this sequence, streaming or not; the edges render it. An
 * embedding run's is {@code Started → Embedded → End}, a rerank run's {@code Started → Scored → End}.
 */
public sealed interface GenerationEvent extends CborSerializable {

  String runId();

  /**
   * The engine accepted the request and began work; {@code queuedMs} is time spent waiting for it.
   *
   * @param engineRestarts how often the slot's engine had been restarted when the engine instance that
   *     runs this generation started (its slot status's {@code restarts} then); 0 from an engine itself,
   *     the slot's engine actor stamps it
   * @param engineVersion version of the engine instance that runs the generation; with
   *     {@code engineDigest} (its binary's or library's sha256) and {@code modelDigest} (the model file's
   *     sha256), what decides whether two runs must be byte-identical. Null from an engine itself, the
   *     slot's engine actor stamps them
   * @param device the Dalang device the slot runs on ({@code cpu0}, {@code vulkan0}, a GPU's UUID); null
   *     from an engine itself
   * @param gpuLayers layers of the model the engine put on that device, as it reported while loading;
   *     0 on the CPU
   * @param modelVersion the catalog version the slot serves ({@code name@v2}); null for a {@code model_path}
   *     pool and from an engine itself
   */
  record Started(String runId, String engine, String slotId, long queuedMs, int engineRestarts, String engineVersion,
      String engineDigest, String modelDigest, String device, int gpuLayers, String modelVersion) implements GenerationEvent {

    public Started(String runId, String engine, String slotId, long queuedMs, int engineRestarts, String engineVersion,
        String engineDigest, String modelDigest, String device, int gpuLayers) {
      this(runId, engine, slotId, queuedMs, engineRestarts, engineVersion, engineDigest, modelDigest, device, gpuLayers, null);
    }

    public Started(String runId, String engine, String slotId, long queuedMs) {
      this(runId, engine, slotId, queuedMs, 0, null, null, null, null, 0);
    }

    public Started(String runId, String engine, String slotId, long queuedMs, int engineRestarts, String engineVersion,
        String engineDigest, String modelDigest) {
      this(runId, engine, slotId, queuedMs, engineRestarts, engineVersion, engineDigest, modelDigest, null, 0);
    }
  }

  /**
   * One piece of generated text (usually one token).
   *
   * @param choice which of the request's choices it belongs to (0 unless {@code n > 1})
   * @param logprobs the log probabilities of the tokens in {@code text}, when the request asked for them;
   *     empty otherwise
   */
  record Token(String runId, String text, int choice, java.util.List<TokenLogprob> logprobs) implements GenerationEvent {

    public Token {
      logprobs = logprobs == null ? java.util.List.of() : java.util.List.copyOf(logprobs);
    }

    public Token(String runId, String text) {
      this(runId, text, 0, java.util.List.of());
    }
  }

  /**
   * A piece of a tool call the model is making, as OpenAI streams them: the first piece of a call names
   * its {@code id} and function {@code name}, later pieces (same {@code index}) add to its
   * {@code arguments} JSON text.
   *
   * @param index the call's position among the calls of this choice's turn
   * @param id the call's id, on its first piece only (null after)
   * @param name the function called, on its first piece only (null after)
   * @param arguments the next fragment of the arguments' JSON text (may be empty)
   */
  record ToolCallDelta(String runId, int choice, int index, String id, String name, String arguments) implements GenerationEvent {}

  /**
   * The vectors of an embedding run, one per input in the input's order, each of the model's width.
   */
  record Embedded(String runId, java.util.List<float[]> vectors) implements GenerationEvent {
    public Embedded {
      vectors = java.util.List.copyOf(vectors);
    }
  }

  /** The relevance scores of a rerank run, one per document in the documents' order (higher: more relevant). */
  record Scored(String runId, java.util.List<Double> scores) implements GenerationEvent {
    public Scored {
      scores = java.util.List.copyOf(scores);
    }
  }

  /**
   * Normal end. {@code finishReason} is OpenAI's: {@code stop}, {@code length} or {@code tool_calls}, of
   * the first choice; {@code finishReasons} has one per choice when the request asked for several.
   */
  record End(String runId, String finishReason, Usage usage, EngineTimings timings, java.util.List<String> finishReasons)
      implements GenerationEvent {

    public End {
      if (finishReasons == null || finishReasons.isEmpty()) {
        finishReasons = finishReason == null ? java.util.List.of() : java.util.List.of(finishReason);
      } else {
        finishReasons = java.util.List.copyOf(finishReasons);
      }
    }

    public End(String runId, String finishReason, Usage usage, EngineTimings timings) {
      this(runId, finishReason, usage, timings, null);
    }
  }

  /**
   * Abnormal end, with a typed error and how many tokens had already been emitted.
   *
   * @param engineLost the engine instance that ran the generation died, was restarted or stopped before
   *     it ended: the failure is the engine's going, not the request's
   */
  record Failed(String runId, DalangError error, int tokensEmitted, EngineTimings timings, boolean engineLost)
      implements GenerationEvent {

    public Failed(String runId, DalangError error, int tokensEmitted, EngineTimings timings) {
      this(runId, error, tokensEmitted, timings, false);
    }

    /** This failure, marked as caused by the engine's going. */
    public Failed withEngineLost() {
      return new Failed(runId, error, tokensEmitted, timings, true);
    }
  }

  default boolean isTerminal() {
    return this instanceof End || this instanceof Failed;
  }
}
