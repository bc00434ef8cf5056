package io.dalang.protocols.generation;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;

/**
 * The canonical event stream of one generation: {@code Started → Token* → End}, or {@code Failed}
 * at any point. Every engine emits exactly this sequence, streaming or not; the edges render it.
 */
public sealed interface GenerationEvent extends CborSerializable {

  String runId();

  /** The engine accepted the request and began work; {@code queuedMs} is time spent waiting for it. */
  record Started(String runId, String engine, String slotId, long queuedMs) implements GenerationEvent {}

  /** One piece of generated text (usually one token). */
  record Token(String runId, String text) implements GenerationEvent {}

  /** Normal end. {@code finishReason} is OpenAI's: {@code stop} or {@code length}. */
  record End(String runId, String finishReason, Usage usage, EngineTimings timings)
      implements GenerationEvent {}

  /** Abnormal end, with a typed error and how many tokens had already been emitted. */
  record Failed(String runId, DalangError error, int tokensEmitted, EngineTimings timings)
      implements GenerationEvent {}

  default boolean isTerminal() {
    return this instanceof End || this instanceof Failed;
  }
}
