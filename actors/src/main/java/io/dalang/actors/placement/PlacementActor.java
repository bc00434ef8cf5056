package io.dalang.actors.placement;

import io.dalang.actors.placement.internal.FleetTable;
import io.dalang.protocols.CborSerializable;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * This node's view of the fleet and memory of placement decisions. It keeps the live status of every
 * slot in a {@link FleetTable} from the {@link SlotStatus#TOPIC} topic ({@link GetFleet}: readiness,
 * capabilities, benchmarks), and the decisions for runs taken on this node, which their run actors
 * hand in ({@link RecordDecision}; the latest {@code keep-decisions}) so that {@link GetDecision} can
 * tell them, to the run's own tenant only. The decisions themselves are made by each pool's
 * {@code PoolAdmission} with {@link Placement}.
 */
public final class PlacementActor {

  public interface Command extends CborSerializable {}

  /** Keeps {@code decision} for narration. */
  public record RecordDecision(PlacementDecision decision) implements Command {}

  public record GetFleet(ActorRef<Fleet> replyTo) implements Command {}

  /** Replies the decision for {@code runId} if this node made it and it was {@code tenantId}'s run. */
  public record GetDecision(String runId, String tenantId, ActorRef<Optional<PlacementDecision>> replyTo) implements Command {}

  private record StatusUpdate(SlotStatus status) implements Command {}

  private enum Tick implements Command { EXPIRE }

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
      var decisions = new LinkedHashMap<String, PlacementDecision>(256, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PlacementDecision> eldest) {
          return size() > settings.keepDecisions();
        }
      };
      metrics.gauge("dalang_placement_fleet_version", fleet, FleetTable::version);
      var slotStates = io.micrometer.core.instrument.MultiGauge.builder("dalang_slots")
          .description("Live model slots by pool, model and state, as this node sees the fleet").register(metrics);
      return Behaviors.receive(Command.class)
          .onMessage(StatusUpdate.class, u -> {
            // A status already past its TTL (a late message) would only be dropped again at the next tick.
            if (settings.time().epochMillis() - u.status().publishedAtMillis() <= ttlMs && fleet.update(u.status())) {
              publishSlots(fleet, slotStates); // a slot came, went or changed state
            }
            return Behaviors.same();
          })
          .onMessageEquals(Tick.EXPIRE, () -> {
            if (fleet.expire(settings.time().epochMillis(), ttlMs)) publishSlots(fleet, slotStates);
            return Behaviors.same();
          })
          .onMessage(RecordDecision.class, m -> {
            decisions.put(m.decision().runId(), m.decision());
            return Behaviors.same();
          })
          .onMessage(GetDecision.class, m -> {
            PlacementDecision d = decisions.get(m.runId());
            m.replyTo().tell(Optional.ofNullable(d).filter(x -> x.tenantId().equals(m.tenantId())));
            return Behaviors.same();
          })
          .onMessage(GetFleet.class, m -> {
            long now = settings.time().epochMillis();
            m.replyTo().tell(new Fleet(fleet.all().stream().filter(s -> now - s.publishedAtMillis() <= ttlMs).toList()));
            return Behaviors.same();
          })
          .build();
    }));
  }

  /** {@code dalang_slots{pool, model, state}}: how many live slots are in each state. */
  private static void publishSlots(FleetTable fleet, io.micrometer.core.instrument.MultiGauge gauge) {
    var counts = new java.util.TreeMap<String, Integer>();
    var tags = new java.util.HashMap<String, io.micrometer.core.instrument.Tags>();
    for (SlotStatus s : fleet.all()) {
      String k = s.poolId() + "\u0000" + s.modelId() + "\u0000" + s.state();
      counts.merge(k, 1, Integer::sum);
      tags.putIfAbsent(k, io.micrometer.core.instrument.Tags.of("pool", s.poolId(), "model", s.modelId(), "state", s.state()));
    }
    var rows = new java.util.ArrayList<io.micrometer.core.instrument.MultiGauge.Row<?>>();
    counts.forEach((k, n) -> rows.add(io.micrometer.core.instrument.MultiGauge.Row.of(tags.get(k), n)));
    gauge.register(rows, true);
  }
}
