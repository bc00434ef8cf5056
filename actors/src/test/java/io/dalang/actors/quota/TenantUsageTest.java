package io.dalang.actors.quota;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.tenant.TenantEntity;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A tenant's usage against its quotas, on a clock the test moves, with restarts on the journal. */
class TenantUsageTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final long T0 = 1_795_000_040_000L; // 20 s into a minute (1_795_000_020_000 is a minute boundary)
  static int tenants;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  final AtomicLong clock = new AtomicLong(T0);
  final String tenant = "t" + (++tenants);
  final TestProbe<TenantUsage.Decision> decisions = testKit.createTestProbe();

  ActorRef<TenantUsage.Command> spawn() {
    return testKit.spawn(TenantUsage.create(tenant, Duration.ofMillis(50), clock::get));
  }

  TenantUsage.Decision acquire(ActorRef<TenantUsage.Command> u, String run, TenantEntity.Quotas q) {
    u.tell(new TenantUsage.Acquire(run, q, decisions.getRef()));
    return decisions.receiveMessage();
  }

  TenantUsage.Usage usage(ActorRef<TenantUsage.Command> u) {
    TestProbe<TenantUsage.Usage> p = testKit.createTestProbe();
    u.tell(new TenantUsage.GetUsage(p.getRef()));
    return p.receiveMessage();
  }

  @Test
  void requestsPerMinuteAreCountedAndResetWithTheNextMinute() {
    var u = spawn();
    var q = new TenantEntity.Quotas(2, 0, 0, 0);
    assertTrue(acquire(u, "r1", q).granted());
    assertTrue(acquire(u, "r2", q).granted());
    var refused = acquire(u, "r3", q).error();
    assertEquals(ErrorCode.QUOTA_EXCEEDED, refused.code());
    assertEquals("requests_per_minute", refused.param());
    assertEquals(40, refused.retryAfterSeconds(), "20 s into the minute: 40 s to go");
    clock.addAndGet(40_000);
    assertTrue(acquire(u, "r4", q).granted());
  }

  @Test
  void tokensPerDayCountWhenRunsEndAndConcurrentRunsWhileTheyRun() {
    var u = spawn();
    var q = new TenantEntity.Quotas(0, 100, 1, 0);
    assertTrue(acquire(u, "r1", q).granted());
    var busy = acquire(u, "r2", q).error();
    assertEquals("concurrent_jobs", busy.param());
    u.tell(new TenantUsage.Settle("r1", 120));
    u.tell(new TenantUsage.Settle("r1", 120)); // a repeat counts once
    var spent = acquire(u, "r3", q).error();
    assertEquals("tokens_per_day", spent.param());
    assertTrue(spent.message().contains("120 used"), spent.message());
    assertEquals(120, usage(u).tokensToday());
    clock.addAndGet(86_400_000L);
    assertNull(acquire(u, "r4", q).error(), "a new day");
  }

  @Test
  void aRestartKeepsTheDaysTokensAndTheMinutesRequests() {
    var u = spawn();
    var q = new TenantEntity.Quotas(3, 1000, 0, 0);
    acquire(u, "r1", q);
    u.tell(new TenantUsage.Settle("r1", 700));
    acquire(u, "r2", q);
    u.tell(new TenantUsage.Settle("r2", 400));
    // Wait for a checkpoint, then restart the entity on the same journal.
    TestProbe<TenantUsage.Usage> p = testKit.createTestProbe();
    p.awaitAssert(Duration.ofSeconds(3), () -> {
      assertEquals(1100, usage(u).tokensToday());
      return null;
    });
    try {
      Thread.sleep(200); // > checkpoint interval
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
    testKit.stop(u);
    var again = spawn();
    var after = usage(again);
    assertEquals(1100, after.tokensToday());
    assertEquals(2, after.requestsThisMinute());
    assertEquals("tokens_per_day", acquire(again, "r3", q).error().param());
  }
}
