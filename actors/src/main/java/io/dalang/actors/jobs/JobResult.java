package io.dalang.actors.jobs;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;

/** The result of a job's successful attempt: the generated text, why it stopped, and its token counts. */
public record JobResult(String runId, String text, String finishReason, int promptTokens, int completionTokens, Instant completedAt)
    implements CborSerializable {}
