package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.Usage;

/**
 * How an attempt ended, as a {@link JobExecutor} reports it: the text, finish reason and usage of a
 * run that ended normally, or its typed error. {@code engine} and {@code slotId} are null when the
 * run never reached a slot.
 */
public record AttemptOutcome(String runId, String engine, String slotId, String text, String finishReason, Usage usage,
    DalangError error) implements CborSerializable {

  public static AttemptOutcome succeeded(String runId, String engine, String slotId, String text, String finishReason, Usage usage) {
    return new AttemptOutcome(runId, engine, slotId, text, finishReason, usage, null);
  }

  public static AttemptOutcome failed(String runId, String engine, String slotId, DalangError error) {
    return new AttemptOutcome(runId, engine, slotId, null, null, null, error);
  }

  public static AttemptOutcome failed(String runId, ErrorCode code, String message) {
    return failed(runId, null, null, DalangError.of(code, message));
  }

  public boolean succeeded() {
    return error == null;
  }
}
