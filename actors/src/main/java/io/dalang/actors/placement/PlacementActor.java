package io.dalang.actors.placement;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Chooses the slot that serves a run, from a live {@link FleetTable} that every engine actor keeps
 * current through the {@link SlotStatus#TOPIC} topic. One per node, so choosing needs no remote call.
 * The decision itself is {@link Placement}'s: feasibility first, then the configured policy, with the
 * decision cache; every decision is kept (the latest {@code keep-decisions}) for narration.
 *
 * <p>{@link PlaceRun} replies {@link Placed} or {@link Rejected} with the typed error {@link Placement}
 * chose; {@link GetDecision} replies a kept decision, to its own tenant only; {@link GetFleet} replies
 * the live statuses.
 */
public final class PlacementActor {

  public interface Command extends CborSerializable {}

  public record PlaceRun(String runId, String tenantId, JobSpec job, ActorRef<PlacementReply> replyTo) implements Command {}

  public record GetFleet(ActorRef<Fleet> replyTo) implements Command {}

  /** Replies the decision for {@code runId} if this node made it and it was {@code tenantId}'s run. */
  public record GetDecision(String runId, String tenantId, ActorRef<Optional<PlacementDecision>> replyTo) implements Command {}

  private record StatusUpdate(SlotStatus status) implements Command {}

  private enum Tick implements Command { EXPIRE }

  public sealed interface PlacementReply extends CborSerializable {}

  public record Placed(SlotStatus slot) implements PlacementReply {}

  public record Rejected(DalangError error) implements PlacementReply {}

  /** The live slots, stale ones already left out. */
  public record Fleet(List<SlotStatus> slots) implements CborSerializable {
    public boolean anyReady() {
      return slots.stream().anyMatch(SlotStatus::ready);
    }
  }

  public static Behavior<Command> create(ActorRef<Topic.Command<SlotStatus>> topic, PlacementSettings settings, MeterRegistry metrics) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      topic.tell(Topic.subscribe(ctx.messageAdapter(SlotStatus.class, StatusUpdate::new)));
      long ttlMs = settings.statusTtl().toMillis();
      timers.startTimerWithFixedDelay(Tick.EXPIRE, Duration.ofMillis(Math.max(100, ttlMs / 2)));
      var fleet = new FleetTable();
      var placement = new Placement(settings.policy(), settings.cacheTtl().toNanos(), settings.cacheSize());
      var decisions = new LinkedHashMap<String, PlacementDecision>(256, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PlacementDecision> eldest) {
          return size() > settings.keepDecisions();
        }
      };
      Timer latency = Timer.builder("dalang_placement_decision").description("Time to decide where a run goes")
          .publishPercentileHistogram().register(metrics);
      Counter hits = Counter.builder("dalang_placement_cache").tag("result", "hit").register(metrics);
      Counter misses = Counter.builder("dalang_placement_cache").tag("result", "miss").register(metrics);
      metrics.gauge("dalang_placement_fleet_version", fleet, FleetTable::version);
      return Behaviors.receive(Command.class)
          .onMessage(StatusUpdate.class, u -> {
            // A status already past its TTL (a late message) would only be dropped again at the next tick.
            if (System.currentTimeMillis() - u.status().publishedAtMillis() <= ttlMs) fleet.update(u.status());
            return Behaviors.same();
          })
          .onMessageEquals(Tick.EXPIRE, () -> {
            fleet.expire(System.currentTimeMillis(), ttlMs);
            return Behaviors.same();
          })
          .onMessage(PlaceRun.class, m -> {
            PlacementDecision d = placement.decide(fleet, m.job(), m.runId(), m.tenantId());
            latency.record(d.decisionNanos(), TimeUnit.NANOSECONDS);
            (d.cacheHit() ? hits : misses).increment();
            metrics.counter("dalang_placements", "outcome", d.error() == null ? "placed" : d.error().code().code()).increment();
            decisions.put(m.runId(), d);
            m.replyTo().tell(d.error() == null ? new Placed(fleet.find(d.chosen()).orElseThrow()) : new Rejected(d.error()));
            return Behaviors.same();
          })
          .onMessage(GetDecision.class, m -> {
            PlacementDecision d = decisions.get(m.runId());
            m.replyTo().tell(Optional.ofNullable(d).filter(x -> x.tenantId().equals(m.tenantId())));
            return Behaviors.same();
          })
          .onMessage(GetFleet.class, m -> {
            long now = System.currentTimeMillis();
            m.replyTo().tell(new Fleet(fleet.all().stream().filter(s -> now - s.publishedAtMillis() <= ttlMs).toList()));
            return Behaviors.same();
          })
          .build();
    }));
  }
}
