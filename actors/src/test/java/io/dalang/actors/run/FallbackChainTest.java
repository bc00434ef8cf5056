package io.dalang.actors.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.protocols.error.ErrorCode;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FallbackChainTest {
  static final FallbackTarget OWN = FallbackTarget.pool("p1");
  static final FallbackTarget P2 = FallbackTarget.pool("p2");
  static final FallbackTarget REMOTE = FallbackTarget.provider("acme", "gpt");

  @Test
  void leavesOutTheRunsOwnPool() {
    assertEquals(List.of(P2, REMOTE), FallbackChain.of("p1", List.of(OWN, P2, REMOTE)).targets());
    assertEquals(List.of(), FallbackChain.of("p1", null).targets());
  }

  @Test
  void triesEachTargetOnceInOrder() {
    var chain = FallbackChain.of("p1", List.of(P2, REMOTE));
    assertEquals(Optional.of(P2), chain.next(ErrorCode.NO_READY_SLOT, false));
    chain = chain.advance();
    assertEquals(Optional.of(REMOTE), chain.next(ErrorCode.ENGINE_UNAVAILABLE, false));
    assertTrue(chain.advance().next(ErrorCode.ENGINE_UNAVAILABLE, false).isEmpty(), "the chain is used up");
  }

  @Test
  void movesOnOnlyForARetriableErrorBeforeTheRunStarted() {
    var chain = FallbackChain.of("p1", List.of(P2));
    assertTrue(chain.next(ErrorCode.ENGINE_UNAVAILABLE, true).isEmpty(), "something reached the client");
    assertTrue(chain.next(ErrorCode.NO_FEASIBLE_SLOT, false).isEmpty(), "not retriable");
    assertTrue(chain.next(ErrorCode.TIMEOUT, false).isEmpty(), "retriable, but not for a fallback");
    assertTrue(chain.next(ErrorCode.QUOTA_EXCEEDED, false).isEmpty(), "retriable, but not for a fallback");
  }
}
