package io.dalang.engine;

import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** One generation run to its end and waited for: for tools that drive an engine directly (doctor, benchmarks). */
public final class Generations {
  private Generations() {}

  /** The tokens of a finished generation and its terminal event ({@code End} or {@code Failed}). */
  public record Result(List<String> tokens, GenerationEvent last) {
    public boolean ended() {
      return last instanceof GenerationEvent.End;
    }
  }

  /** Runs {@code request} on {@code engine} and waits at most {@code timeout} for its terminal event. */
  public static Result run(Engine engine, GenerationRequest request, Duration timeout) throws Exception {
    var tokens = java.util.Collections.synchronizedList(new ArrayList<String>());
    var done = new CompletableFuture<GenerationEvent>();
    engine.generate(request, ev -> {
      if (ev instanceof GenerationEvent.Token t) tokens.add(t.text());
      if (ev.isTerminal()) done.complete(ev);
    });
    var last = done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    return new Result(List.copyOf(tokens), last);
  }
}
