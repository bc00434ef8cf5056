package io.dalang.engine;

import io.dalang.gguf.GgufFile;
import io.dalang.gguf.GgufReader;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EmbeddingInput;
import io.dalang.protocols.generation.RunTask;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How llama.cpp pools a model's output for an embedding or rerank engine, read from the model file.
 * An embedding model declares its pooling ({@code <arch>.pooling_type}); a generative model declares
 * none, and llama.cpp would then return one vector per token, which {@code /v1/embeddings} refuses, so
 * it is pooled on its last token, as decoder embedding models (e5-mistral, Qwen3-Embedding) are: both
 * engines then give the same vectors. (Mean pooling of a llama model aborts the process inside the
 * in-process engine's llama.cpp build, {@code GGML_ASSERT(ggml_can_mul_mat(a, b))}.) A reranker needs a classification head ({@code cls} / {@code cls.output}
 * tensors): without one llama.cpp's rank pooling returns a hidden state's first value as the "score",
 * so an engine for such a model refuses to start rather than serve made-up relevance.
 *
 * @param declared the model file names its own pooling; false: Dalang asks for last-token pooling
 */
record PooledOutput(boolean declared) {

  /** llama.cpp's {@code LLAMA_POOLING_TYPE_NONE}: a vector per token. */
  private static final long POOLING_NONE = 0;

  static PooledOutput of(Path model, RunTask task) {
    GgufFile f;
    try {
      f = GgufReader.read(model);
    } catch (IOException e) {
      throw new EngineException("cannot read " + model.getFileName() + " to see how it pools its output: " + e.getMessage(), e);
    }
    if (task == RunTask.RERANK && !hasClassificationHead(f)) {
      throw new EngineException(model.getFileName() + " (" + f.architecture() + ") has no classification head (cls or cls.output tensors): "
          + "it cannot rerank; use a reranker model for a pool with task 'rerank'");
    }
    long pooling = f.integer(f.architecture() + ".pooling_type").orElse(POOLING_NONE);
    return new PooledOutput(pooling != POOLING_NONE);
  }

  /**
   * The typed 400 for a {@code dimensions} other than the model's width; null when none was asked or it
   * is the width. Only a model trained for shorter vectors (Matryoshka) may be cut, and a model file does
   * not say whether it was, so Dalang cuts none.
   */
  static DalangError widthError(EmbeddingInput in, int width, String engine) {
    if (in.dimensions() == 0 || in.dimensions() == width) return null;
    return new DalangError(ErrorCode.UNSUPPORTED_PARAMETER, "'dimensions' " + in.dimensions() + " cannot be served: the model's vectors have "
        + width + " dimensions and engine " + engine + " does not shorten them; leave 'dimensions' out or send " + width, "dimensions", 0);
  }

  static boolean hasClassificationHead(GgufFile f) {
    return f.tensors().stream().anyMatch(t -> t.name().startsWith("cls."));
  }
}
