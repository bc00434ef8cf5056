package io.dalang.actors.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.actors.admission.PoolAdmission;
import io.dalang.actors.admission.Priority;
import io.dalang.actors.breaker.CircuitBreaker;
import io.dalang.actors.engine.EngineActor;
import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.fallback.Fallbacks;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.actors.quota.TenantUsage;
import io.dalang.actors.telemetry.TelemetryActor;
import io.dalang.actors.telemetry.ValidRunPolicy;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.actors.testing.EntityTestKits;
import io.dalang.actors.testing.ManualTimeSource;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.EngineTimings;
import io.dalang.protocols.generation.GenerationEvent;
import io.dalang.protocols.generation.GenerationRequest;
import io.dalang.protocols.generation.Usage;
import io.dalang.protocols.openai.RequestLimits;
import io.dalang.protocols.telemetry.RunRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * One {@link RunActor} per test, its peers (usage, pools, engine, placement, telemetry) probes, its clock
 * a manual one: each test drives one transition of the run's lifecycle and checks what the run told its
 * peers, the client's stream and its record.
 */
@ExtendWith(LogCapturingExtension.class)
class RunActorTest {
  static final ActorTestKit testKit = ActorTestKit.create(EntityTestKits.config());
  static final Duration WAIT = Duration.ofSeconds(5);
  static final Duration STALL = Duration.ofMillis(400);
  static int runs;

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** One run and its peers. */
  final class Run {
    final String id = "run_" + (++runs);
    final ManualTimeSource clock = new ManualTimeSource();
    final TestProbe<TenantUsage.Command> usage = testKit.createTestProbe();
    final Map<String, TestProbe<PoolAdmission.Command>> pools = Map.of("p1", testKit.createTestProbe(), "p2", testKit.createTestProbe());
    final TestProbe<EngineActor.Command> engine = testKit.createTestProbe();
    final TestProbe<PlacementActor.Command> placement = testKit.createTestProbe();
    final TestProbe<TelemetryActor.Command> telemetry = testKit.createTestProbe();
    final RunOutput out = new RunOutput(16);
    final ActorRef<RunActor.Command> actor;

    Run(Duration timeout, FallbackTarget... fallbacks) {
      var request = new GenerationRequest(id, "hello", null, 8, 0, 1, 1L, List.of());
      var spec = new RunSpec("t1", Set.of("p1", "p2"), "p1", "m", request, true, clock.nanoTime(), clock.epochMillis(), Priority.INTERACTIVE, 0,
          TenantEntity.Quotas.NONE, List.of(fallbacks));
      var settings = new RunSettings(timeout, STALL, Duration.ofMinutes(1), 16, Duration.ofSeconds(5), RequestLimits.DEFAULTS, clock);
      var peers = new RunActor.Peers(t -> usage.ref(), p -> pools.get(p).ref());
      actor = testKit.spawn(RunActor.create(spec, out, placement.ref(), telemetry.ref(), settings, Fallbacks.none(), peers));
    }

    Run() {
      this(Duration.ofMinutes(1));
    }

    /** Answers the quota check. */
    void quota(DalangError refusal) {
      var acquire = usage.expectMessageClass(TenantUsage.Acquire.class, WAIT);
      acquire.replyTo().tell(new TenantUsage.Decision(id, refusal));
    }

    PoolAdmission.Submit submitted(String pool) {
      return pools.get(pool).expectMessageClass(PoolAdmission.Submit.class, WAIT);
    }

    /** Quota granted, submitted to p1, dispatched to its slot: the engine's sink. */
    Consumer<GenerationEvent> generating() {
      quota(null);
      submitted("p1").replyTo().tell(new PoolAdmission.Dispatched(id, slot("p1"), 7, null));
      return engine.expectMessageClass(EngineActor.GenerateLocal.class, WAIT).sink();
    }

    SlotStatus slot(String pool) {
      return new SlotStatus("s1", pool, "m", "n1", "cpu0", "Ready", "llama-inprocess", "v1", "cpu", "", "Q8_0", Set.of(), 4096, 4, 4, 0, 0,
          -1, "", engine.ref(), clock.epochMillis(), 0);
    }

    RunRecord record() {
      return telemetry.expectMessageClass(TelemetryActor.RecordRun.class, WAIT).record();
    }

    PoolAdmission.Release released(String pool) {
      return pools.get(pool).fishForMessage(WAIT, m -> m instanceof PoolAdmission.Release
          ? FishingOutcomes.complete()
          : FishingOutcomes.continueAndIgnore()).stream()
          .filter(PoolAdmission.Release.class::isInstance).map(PoolAdmission.Release.class::cast).findFirst().orElseThrow();
    }

    GenerationEvent first() throws Exception {
      return out.first().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    List<GenerationEvent> rest() throws Exception {
      return out.rest().runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS);
    }

    GenerationEvent started() {
      return new GenerationEvent.Started(id, "llama-inprocess", "s1", 0);
    }

    GenerationEvent end() {
      return new GenerationEvent.End(id, "stop", new Usage(3, 2), EngineTimings.NONE);
    }

    GenerationEvent.Failed failed(ErrorCode code) {
      return new GenerationEvent.Failed(id, DalangError.of(code, "test"), 0, EngineTimings.NONE);
    }
  }

  static ErrorCode code(GenerationEvent e) {
    return assertInstanceOf(GenerationEvent.Failed.class, e).error().code();
  }

  // Admitting

  @Test
  void admittingEndsWithQuotaExceededWhenTheTenantsUsageRefuses() throws Exception {
    var run = new Run();
    run.quota(DalangError.of(ErrorCode.QUOTA_EXCEEDED, "quota requests_per_minute exceeded"));
    assertEquals(ErrorCode.QUOTA_EXCEEDED, code(run.first()));
    var rec = run.record();
    assertEquals("quota_exceeded", rec.outcome());
    assertNull(rec.servedBy(), "it never reached a target");
    run.pools.get("p1").expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void admittingEndsCancelledWhenTheClientLeaves() throws Exception {
    var run = new Run();
    run.usage.expectMessageClass(TenantUsage.Acquire.class, WAIT);
    run.actor.tell(RunActor.ClientGone.INSTANCE);
    assertEquals(ErrorCode.CANCELLED, code(run.first()));
    assertEquals("cancelled", run.record().outcome());
  }

  @Test
  void admittingGoesOnToTheQueueWhenTheQuotaIsGranted() {
    var run = new Run();
    run.quota(null);
    var submit = run.submitted("p1");
    assertEquals("m", submit.spec().modelId());
    assertEquals(Set.of("p1"), submit.spec().pools());
    assertEquals(run.clock.epochMillis(), submit.submittedAtEpochMs(), "submitted at the run's clock");
    assertEquals("pool:p1", run.out.servedBy());
  }

  // Queued

  @Test
  void queuedEndsWithThePoolsRejectionAndFreesItsPlace() throws Exception {
    var run = new Run();
    run.quota(null);
    run.submitted("p1").replyTo().tell(new PoolAdmission.Rejected(run.id, DalangError.of(ErrorCode.NO_FEASIBLE_SLOT, "no"), null));
    assertEquals(ErrorCode.NO_FEASIBLE_SLOT, code(run.first()));
    assertEquals(CircuitBreaker.Outcome.NEUTRAL, run.released("p1").outcome());
    var rec = run.record();
    assertEquals("no_feasible_slot", rec.outcome());
    assertEquals("pool:p1", rec.servedBy());
    run.usage.expectMessageClass(TenantUsage.Settle.class, WAIT);
  }

  @Test
  void queuedFallsBackToTheNextPoolOnARetriableRejection() {
    // p2 serves another model: a rule names it a substitute for the run's model m.
    var run = new Run(Duration.ofMinutes(1), FallbackTarget.pool("p2").withModel("m2").onlyFor("m"));
    run.quota(null);
    run.submitted("p1").replyTo().tell(new PoolAdmission.Rejected(run.id, DalangError.of(ErrorCode.NO_READY_SLOT, "none"), null));
    run.released("p1");
    var again = run.submitted("p2");
    assertEquals("m2", again.spec().modelId());
    assertEquals("pool:p2", run.out.servedBy());
    assertEquals("m2", run.out.servedModel(), "the answer will name the substitute");
  }

  @Test
  void queuedTimesOutWhenTheRunTimeoutPassesInTheQueue() throws Exception {
    var run = new Run(Duration.ofMillis(300));
    run.quota(null);
    run.submitted("p1");
    var failed = assertInstanceOf(GenerationEvent.Failed.class, run.first());
    assertEquals(ErrorCode.TIMEOUT, failed.error().code());
    assertTrue(failed.error().message().contains("waited in the queue of pool p1"), failed.error().message());
    assertEquals("timeout", run.record().outcome());
  }

  @Test
  void queuedGoesOnToGeneratingWhenDispatched() {
    var run = new Run();
    run.generating();
    var decision = run.placement.expectMessageClass(PlacementActor.RecordDecision.class, WAIT);
    assertNull(decision.decision());
  }

  // Generating

  @Test
  void generatingEndsWithTheEnginesEndAndRecordsIt() throws Exception {
    var run = new Run();
    var sink = run.generating();
    sink.accept(run.started());
    run.clock.advance(Duration.ofMillis(20));
    sink.accept(new GenerationEvent.Token(run.id, "a"));
    run.clock.advance(Duration.ofMillis(30));
    sink.accept(new GenerationEvent.Token(run.id, "b"));
    sink.accept(run.end());
    assertInstanceOf(GenerationEvent.Started.class, run.first());
    var rec = run.record();
    assertEquals("ok", rec.outcome());
    assertEquals("s1", rec.slot());
    assertEquals("p1", rec.pool());
    assertEquals(7, rec.queueMs(), 1e-9, "the pool's queue time");
    assertEquals(20, rec.ttftMs(), 1e-9, "first token on the run's clock");
    assertEquals(30, rec.meanInterTokenMs(), 1e-9);
    assertEquals(0.05, rec.totalSeconds(), 1e-9);
    assertEquals(CircuitBreaker.Outcome.SUCCESS, run.released("p1").outcome());
    assertEquals(5, run.usage.expectMessageClass(TenantUsage.Settle.class, WAIT).tokens());
    var rest = run.rest();
    assertInstanceOf(GenerationEvent.End.class, rest.get(rest.size() - 1));
  }

  @Test
  void generatingGoesBackToTheQueueWhenTheEngineGaveUpBeforeItStarted() {
    var run = new Run();
    var sink = run.generating();
    sink.accept(run.failed(ErrorCode.ENGINE_UNAVAILABLE));
    assertEquals(CircuitBreaker.Outcome.FAILURE, run.released("p1").outcome());
    run.submitted("p1");
    run.telemetry.expectNoMessage(Duration.ofMillis(100));
  }

  @Test
  void generatingTimesOutWhenTheEngineIsSilentForTheStallTimeoutOnTheRunsClock() throws Exception {
    var run = new Run();
    var sink = run.generating();
    sink.accept(run.started());
    // Real time passes, several stall checks run: the run's clock did not move, so the engine was not silent.
    run.telemetry.expectNoMessage(STALL.multipliedBy(2));
    run.clock.advance(STALL);
    assertEquals(run.id, run.engine.expectMessageClass(EngineActor.Cancel.class, WAIT).runId());
    var rec = run.record();
    assertEquals("timeout", rec.outcome());
    var failed = assertInstanceOf(GenerationEvent.Failed.class, run.rest().get(0));
    assertTrue(failed.error().message().contains("silent"), failed.error().message());
  }

  @Test
  void generatingEndsWithEngineFailedWhenTheEngineStopsAfterItStarted() throws Exception {
    var run = new Run();
    var sink = run.generating();
    sink.accept(run.started());
    run.engine.stop();
    var rec = run.record();
    assertEquals("engine_failed", rec.outcome());
    assertEquals(CircuitBreaker.Outcome.FAILURE, run.released("p1").outcome());
  }

  // Cancelling

  @Test
  void generatingGoesToCancellingWhenTheClientLeavesAndEndsWithTheEnginesAnswer() {
    var run = new Run();
    var sink = run.generating();
    sink.accept(run.started());
    run.actor.tell(RunActor.ClientGone.INSTANCE);
    assertEquals(run.id, run.engine.expectMessageClass(EngineActor.Cancel.class, WAIT).runId());
    sink.accept(run.failed(ErrorCode.CANCELLED));
    var rec = run.record();
    assertEquals("cancelled", rec.outcome());
    assertTrue(rec.qualityReasons().contains(ValidRunPolicy.TRUNCATED_STREAM), rec.qualityReasons().toString());
    assertEquals(CircuitBreaker.Outcome.NEUTRAL, run.released("p1").outcome(), "a cancelled run says nothing of the slot");
  }

  @Test
  void cancellingDoesNotFallBackWhenTheEngineFailsRetriably() {
    var run = new Run(Duration.ofMinutes(1), FallbackTarget.pool("p2").withModel("m"));
    var sink = run.generating();
    run.actor.tell(RunActor.ClientGone.INSTANCE);
    run.engine.expectMessageClass(EngineActor.Cancel.class, WAIT);
    sink.accept(run.failed(ErrorCode.ENGINE_UNAVAILABLE));
    assertEquals("engine_unavailable", run.record().outcome());
    run.pools.get("p2").expectNoMessage(Duration.ofMillis(100));
  }

  // Stopped from outside

  @Test
  void aRunStoppedWithoutATerminalEventStillEndsTheStreamAndItsRecord() throws Exception {
    var run = new Run();
    run.quota(null);
    run.submitted("p1");
    testKit.stop(run.actor);
    assertEquals(ErrorCode.INTERNAL, code(run.first()));
    assertEquals("internal", run.record().outcome());
    run.released("p1");
  }
}
