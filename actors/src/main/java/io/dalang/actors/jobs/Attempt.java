package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;

/**
 * One attempt of a job: a run from start to its end. Open while {@code endedAt} is null.
 *
 * @param errorCode the wire code of the error that ended it ({@code ErrorCode.code()}), null if it succeeded
 * @param engine the engine kind that ran it and {@code slotId} its slot, null when it never reached one
 */
public record Attempt(int attempt, String runId, Instant startedAt, Instant endedAt, String errorCode, String errorMessage,
    String engine, String slotId) implements CborSerializable {

  public static Attempt started(int attempt, String runId, Instant at) {
    return new Attempt(attempt, runId, at, null, null, null, null, null);
  }

  public boolean open() {
    return endedAt == null;
  }

  Attempt ended(Instant at, String code, String message, String engine, String slotId) {
    return new Attempt(attempt, runId, startedAt, at, code, message, engine, slotId);
  }
}
