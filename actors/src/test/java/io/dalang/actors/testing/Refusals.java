package io.dalang.actors.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import org.apache.pekko.pattern.StatusReply;

/** Asserts an entity's refusal and the error code it carries ({@link Refusal}). */
public final class Refusals {
  private Refusals() {}

  public static void assertRefused(ErrorCode expected, StatusReply<?> reply) {
    assertTrue(reply.isError(), "expected a refusal, got " + reply);
    String text = reply.getError().getMessage();
    assertEquals(expected, Refusal.code(text, null), text);
  }
}
