package io.dalang.actors.jobs;

import static io.dalang.actors.testing.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LogCapturingExtension.class)
class IdempotencyEntityTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final Duration TTL = Duration.ofHours(24);
  static int keys;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  final AtomicLong clock = new AtomicLong(1_795_000_000_000L);
  final EventSourcedBehaviorTestKit<IdempotencyEntity.Command, IdempotencyEntity.Event, IdempotencyEntity.State> kit =
      EventSourcedBehaviorTestKit.create(testKit.system(),
          IdempotencyEntity.create(IdempotencyEntity.entityId("acme", "key-" + (++keys)), clock::get));

  StatusReply<IdempotencyEntity.Claim> claim(String hash, String jobId) {
    return kit.<StatusReply<IdempotencyEntity.Claim>>runCommand(to -> new IdempotencyEntity.ClaimKey("acme", hash, jobId, TTL, to)).reply();
  }

  @Test
  void theSameKeyAndRequestNameTheFirstJobAcrossARestart() {
    var first = claim("h1", "job_1").getValue();
    assertTrue(first.fresh());
    kit.restart();
    var again = claim("h1", "job_2").getValue();
    assertFalse(again.fresh());
    assertEquals("job_1", again.jobId());
  }

  @Test
  void theSameKeyWithAnotherRequestIsRefusedAndChangesNothing() {
    claim("h1", "job_1");
    var r = kit.<StatusReply<IdempotencyEntity.Claim>>runCommand(to -> new IdempotencyEntity.ClaimKey("acme", "h2", "job_2", TTL, to));
    assertTrue(r.reply().isError());
    assertRefused(ErrorCode.IDEMPOTENCY_CONFLICT, r.reply());
    assertTrue(r.events().isEmpty());
    assertEquals("job_1", claim("h1", "job_3").getValue().jobId());
  }

  @Test
  void anExpiredKeyIsNewAgain() {
    claim("h1", "job_1");
    clock.addAndGet(TTL.toMillis());
    var later = claim("h2", "job_2").getValue();
    assertTrue(later.fresh());
    assertEquals("job_2", later.jobId());
  }

  @Test
  void keysOfDifferentTenantsNeverMeet() {
    assertNotEquals(IdempotencyEntity.entityId("acme", "k"), IdempotencyEntity.entityId("other", "k"));
  }
}
