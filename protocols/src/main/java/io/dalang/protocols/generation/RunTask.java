package io.dalang.protocols.generation;

import java.util.Locale;
import java.util.Set;

/**
 * What a pool's engines are started for, and so which runs its slots take: text generation (chat and
 * completions), embeddings, or reranking. llama.cpp runs a model for one of them at a time (an engine
 * started with {@code --embeddings} pools its output instead of sampling it), so the tasks are exclusive:
 * a slot's engine tells its task by its extensions ({@link GenerationOptions#EMBEDDINGS},
 * {@link GenerationOptions#RERANK} or neither), and placement sends a run only to a slot of its own task.
 */
public enum RunTask {
  GENERATE,
  EMBED,
  RERANK;

  /** Its name on the wire and in the admin API: {@code generate}, {@code embed}, {@code rerank}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The task named {@code name}; null or blank is {@link #GENERATE} (pools created before tasks existed). */
  public static RunTask parse(String name) {
    if (name == null || name.isBlank()) return GENERATE;
    for (RunTask t : values()) if (t.wire().equals(name)) return t;
    throw new IllegalArgumentException("task must be 'generate', 'embed' or 'rerank', got '" + name + "'");
  }

  /** The task that an engine with {@code extensions} serves, or that a run needing them asks for. */
  public static RunTask of(Set<String> extensions) {
    if (extensions.contains(GenerationOptions.EMBEDDINGS)) return EMBED;
    if (extensions.contains(GenerationOptions.RERANK)) return RERANK;
    return GENERATE;
  }

  /** The endpoint that asks for it, for errors that tell a client where its model belongs. */
  public String endpoint() {
    return switch (this) {
      case GENERATE -> "/v1/chat/completions or /v1/completions";
      case EMBED -> "/v1/embeddings";
      case RERANK -> "/v1/rerank";
    };
  }
}
