package io.dalang.engine;

import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * One running inference engine serving one model. Every implementation turns a request into the
 * canonical event stream {@code Started → Token* → End} (or {@code Failed}), delivered to the sink from
 * the engine's own threads, and stops within moments of {@link Generation#cancel()}.
 *
 * <p>Lifecycle: {@link #start()} loads the model (blocking); {@link #checkHealth()} answers whether it
 * can serve; {@link #terminated()} completes when the engine died on its own; {@link #close()} stops it.
 */
public interface Engine extends AutoCloseable {

  /** {@code llama-inprocess}, {@code llama-server}, {@code openai-upstream} or {@code simulated}. */
  String kind();

  /** Version and digest of the engine binary or library, known once started. */
  EngineIdentity identity();

  /** Loads the model and brings the engine up; blocks until it is healthy or throws. */
  void start() throws EngineException;

  /** A cheap, blocking health check. */
  boolean checkHealth();

  /** How many generations the engine runs at once. */
  int parallelism();

  /** Starts one generation; events go to {@code sink}, the last one terminal. Never throws. */
  Generation generate(GenerationRequest request, Consumer<GenerationEvent> sink);

  /** Completes, with a reason, when the engine stops on its own (crash, process exit). */
  CompletionStage<String> terminated();

  /** The OS process id of an out-of-process engine. */
  /**
   * Features beyond plain generation that Dalang can pass through to this engine (e.g. {@code grammar},
   * {@code logprobs}, {@code embeddings}); placement only sends a run that needs one to a slot whose
   * engine has it. None yet: Dalang's API accepts plain generation only.
   */
  default java.util.Set<String> extensions() {
    return java.util.Set.of();
  }

  /**
   * Where the model went, as the engine reported it while loading (layers offloaded to a GPU device and
   * the buffers there); {@link Offload#NONE} for an engine on the CPU. Known once started.
   */
  default Offload offload() {
    return Offload.NONE;
  }

  /**
   * How busy the engine says it is (requests it runs and queues, all its clients'), as of its last health
   * check; {@link EngineLoad#UNKNOWN} for an engine whose only client is this slot.
   */
  default EngineLoad reportedLoad() {
    return EngineLoad.UNKNOWN;
  }

  default OptionalLong processId() {
    return OptionalLong.empty();
  }

  /** Base URL of an out-of-process engine's own HTTP API; empty for in-process engines. */
  default String baseUrl() {
    return "";
  }

  @Override
  void close();

  /** A generation in flight. */
  interface Generation {
    void cancel();

    /**
     * Ends the generation as if the engine lost it: llama-server's connection is dropped, the in-process
     * generation is aborted. Unlike {@link #cancel()} the run then fails with {@code engine_failed}, not
     * {@code cancelled}. Used by fault injection ({@code io.dalang.engine.chaos}); the default cancels.
     */
    default void abort(String why) {
      cancel();
    }
  }
}
