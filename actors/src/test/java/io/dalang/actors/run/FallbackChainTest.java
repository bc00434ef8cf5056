package io.dalang.actors.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.protocols.error.ErrorCode;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class FallbackChainTest {
  // Pool targets carry the model their pool serves once the tenant's keys are resolved.
  static final FallbackTarget OWN = FallbackTarget.pool("p1").withModel("m");
  static final FallbackTarget P2 = FallbackTarget.pool("p2").withModel("m");
  static final FallbackTarget REMOTE = FallbackTarget.provider("acme", "m");

  @Test
  void leavesOutTheRunsOwnPool() {
    assertEquals(List.of(P2, REMOTE), FallbackChain.of("p1", "m", List.of(OWN, P2, REMOTE)).targets());
    assertEquals(List.of(), FallbackChain.of("p1", "m", null).targets());
  }

  @Test
  void takesOnlyTargetsServingTheModelAskedOrNamedForIt() {
    var otherPool = FallbackTarget.pool("p3").withModel("small");
    var otherRemote = FallbackTarget.provider("acme", "gpt-x");
    var substitute = FallbackTarget.pool("p4").withModel("small").onlyFor("m");
    var forAnother = FallbackTarget.provider("acme", "m").onlyFor("other");
    assertEquals(List.of(P2, substitute), FallbackChain.of("p1", "m", List.of(otherPool, P2, otherRemote, substitute, forAnother)).targets(),
        "another model only where a rule accepts it for the model asked");
    assertEquals(List.of(otherPool), FallbackChain.of("p1", "small", List.of(otherPool, P2, substitute)).targets(),
        "a rule for m does not make p4 a fallback of its own model's runs");
    assertEquals(List.of(), FallbackChain.of("p1", "m", List.of(FallbackTarget.pool("p9"))).targets(), "a pool whose model is unknown takes nothing");
  }

  @Test
  void triesEachTargetOnceInOrder() {
    var chain = FallbackChain.of("p1", "m", List.of(P2, REMOTE));
    assertEquals(Optional.of(P2), chain.next(ErrorCode.NO_READY_SLOT, false));
    chain = chain.advance();
    assertEquals(Optional.of(REMOTE), chain.next(ErrorCode.ENGINE_UNAVAILABLE, false));
    assertTrue(chain.advance().next(ErrorCode.ENGINE_UNAVAILABLE, false).isEmpty(), "the chain is used up");
  }

  @Test
  void movesOnOnlyForARetriableErrorBeforeTheRunStarted() {
    var chain = FallbackChain.of("p1", "m", List.of(P2));
    assertTrue(chain.next(ErrorCode.ENGINE_UNAVAILABLE, true).isEmpty(), "something reached the client");
    assertTrue(chain.next(ErrorCode.NO_FEASIBLE_SLOT, false).isEmpty(), "not retriable");
    assertTrue(chain.next(ErrorCode.TIMEOUT, false).isEmpty(), "retriable, but not for a fallback");
    assertTrue(chain.next(ErrorCode.QUOTA_EXCEEDED, false).isEmpty(), "retriable, but not for a fallback");
  }
}
