package io.dalang.actors.jobs;

import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.Usage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A {@link JobExecutor} for entity tests: each attempt ends as the next step of its script says (a
 * step that returns null leaves the attempt open until the test completes it). Records what it was
 * asked to run and what it cancelled.
 */
final class ScriptedExecutor implements JobExecutor {
  final ConcurrentLinkedQueue<Function<String, AttemptOutcome>> script = new ConcurrentLinkedQueue<>();
  final List<String> started = new CopyOnWriteArrayList<>();
  final List<String> cancelled = new CopyOnWriteArrayList<>();
  final List<CompletableFuture<AttemptOutcome>> open = new CopyOnWriteArrayList<>();
  /** Whether the attempts' tokens reached a client (a streaming request attached to them). */
  volatile boolean delivered;

  ScriptedExecutor then(Function<String, AttemptOutcome> step) {
    script.add(step);
    return this;
  }

  ScriptedExecutor succeeds(String text) {
    return then(runId -> AttemptOutcome.succeeded(runId, "llama-inprocess", "slot-1", text, "stop", new Usage(3, 5)));
  }

  ScriptedExecutor fails(ErrorCode code) {
    return then(runId -> AttemptOutcome.failed(runId, "llama-inprocess", "slot-1", DalangError.of(code, code.code() + " on purpose")));
  }

  ScriptedExecutor hangs() {
    return then(runId -> null);
  }

  @Override
  public RunningAttempt start(Job job, String runId) {
    started.add(runId);
    var step = script.poll();
    var future = new CompletableFuture<AttemptOutcome>();
    AttemptOutcome o = step == null ? null : step.apply(runId);
    if (o != null) future.complete(o);
    else open.add(future);
    return new RunningAttempt() {
      @Override
      public CompletionStage<AttemptOutcome> outcome() {
        return future;
      }

      @Override
      public void cancel() {
        cancelled.add(runId);
      }

      @Override
      public boolean delivered() {
        return delivered;
      }
    };
  }

  List<String> startedRuns() {
    return new ArrayList<>(started);
  }
}
