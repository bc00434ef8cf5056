package io.dalang.actors.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.Usage;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class LiveAttemptTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final String RUN = "run_live-1";
  static final GenerationEvent STARTED = new GenerationEvent.Started(RUN, "llama-inprocess", "slot-1", 0);
  static final GenerationEvent END = new GenerationEvent.End(RUN, "length", new Usage(2, 3), EngineTimings.NONE);
  static final GenerationEvent FAILED = new GenerationEvent.Failed(RUN, DalangError.of(ErrorCode.ENGINE_FAILED, "gone"), 0, EngineTimings.NONE);

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  final LiveAttempt.Delivery delivery = new LiveAttempt.Delivery();

  static GenerationEvent token(String t) {
    return new GenerationEvent.Token(RUN, t);
  }

  ActorRef<LiveAttempt.Command> live(int maxReplayTokens) {
    return testKit.spawn(LiveAttempt.create(RUN, delivery, maxReplayTokens));
  }

  static void publish(ActorRef<LiveAttempt.Command> live, GenerationEvent... events) {
    for (var e : events) live.tell(new LiveAttempt.Publish(e));
  }

  boolean finish(ActorRef<LiveAttempt.Command> live, GenerationEvent terminal) {
    TestProbe<LiveAttempt.Finished> done = testKit.createTestProbe();
    live.tell(new LiveAttempt.Finish(terminal, done.ref()));
    return done.receiveMessage().delivered();
  }

  TestProbe<LiveAttempt.Update> subscribe(ActorRef<LiveAttempt.Command> live) {
    TestProbe<LiveAttempt.Update> s = testKit.createTestProbe();
    live.tell(new LiveAttempt.Subscribe(s.ref()));
    return s;
  }

  @Test
  void aLateSubscriberGetsTheEventsSoFarThenTheRestLive() {
    var live = live(100);
    publish(live, STARTED, token("Once"), token(" upon"));
    var late = subscribe(live);
    assertEquals(new LiveAttempt.Events(RUN, List.of(STARTED, token("Once"), token(" upon"))), late.receiveMessage());
    publish(live, token(" a"));
    assertEquals(new LiveAttempt.Events(RUN, List.of(token(" a"))), late.receiveMessage());
    assertTrue(finish(live, END), "tokens reached a client");
    assertEquals(new LiveAttempt.Events(RUN, List.of(END)), late.receiveMessage());
    var afterEnd = subscribe(live);
    assertEquals(new LiveAttempt.Events(RUN, List.of(STARTED, token("Once"), token(" upon"), token(" a"), END)), afterEnd.receiveMessage());
  }

  @Test
  void pastTheReplayCapANewSubscriberIsRefusedWhileAnEarlyOneGoesOn() {
    var live = live(2);
    var early = subscribe(live);
    assertEquals(new LiveAttempt.Events(RUN, List.of()), early.receiveMessage());
    publish(live, STARTED, token("a"), token("b"), token("c"));
    var refused = (LiveAttempt.Refused) subscribe(live).receiveMessage();
    assertEquals(ErrorCode.REPLAY_UNAVAILABLE, refused.error().code());
    for (var e : List.of(STARTED, token("a"), token("b"), token("c"))) assertEquals(new LiveAttempt.Events(RUN, List.of(e)), early.receiveMessage());
  }

  @Test
  void anAttemptThatFailedBeforeATokenReachedAClientSendsItsSubscribersBackToTheJob() {
    var live = live(100);
    var waiting = subscribe(live);
    waiting.receiveMessage();
    publish(live, STARTED);
    waiting.receiveMessage();
    assertFalse(finish(live, FAILED), "only Started went out");
    assertEquals(new LiveAttempt.AttemptEnded(RUN), waiting.receiveMessage());
    assertEquals(new LiveAttempt.AttemptEnded(RUN), subscribe(live).receiveMessage());
  }

  @Test
  void anAttemptWhoseTokensReachedAClientEndsWithItsFailureAndCountsAsDelivered() {
    var live = live(100);
    var client = subscribe(live);
    client.receiveMessage();
    publish(live, STARTED, token("a"));
    client.receiveMessage();
    client.receiveMessage();
    assertTrue(finish(live, FAILED));
    assertEquals(new LiveAttempt.Events(RUN, List.of(FAILED)), client.receiveMessage());
    assertTrue(delivery.delivered());
  }

  @Test
  void aSealedAttemptNeverDeliversATokenAfterwards() {
    var live = live(100);
    publish(live, STARTED, token("a"));
    assertFalse(delivery.seal(), "cancelled before any client attached");
    assertEquals(new LiveAttempt.AttemptEnded(RUN), subscribe(live).receiveMessage());
    assertFalse(delivery.delivered());
  }
}
