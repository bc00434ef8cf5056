package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;

/**
 * The canonical event stream of one generation: {@code Started → Token* → End}, or {@code Failed}
 * at any point. Every engine emits exactly this sequence, streaming or not; the edges render it.
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
   */
  record Started(String runId, String engine, String slotId, long queuedMs, int engineRestarts, String engineVersion,
      String engineDigest, String modelDigest, String device, int gpuLayers) implements GenerationEvent {

    public Started(String runId, String engine, String slotId, long queuedMs) {
      this(runId, engine, slotId, queuedMs, 0, null, null, null, null, 0);
    }

    public Started(String runId, String engine, String slotId, long queuedMs, int engineRestarts, String engineVersion,
        String engineDigest, String modelDigest) {
      this(runId, engine, slotId, queuedMs, engineRestarts, engineVersion, engineDigest, modelDigest, null, 0);
    }
  }

  /** One piece of generated text (usually one token). */
  record Token(String runId, String text) implements GenerationEvent {}

  /** Normal end. {@code finishReason} is OpenAI's: {@code stop} or {@code length}. */
  record End(String runId, String finishReason, Usage usage, EngineTimings timings)
      implements GenerationEvent {}

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
