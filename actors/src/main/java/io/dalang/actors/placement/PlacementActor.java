package io.dalang.actors.placement;

import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;

/**
 * Chooses the slot that serves a run, from a live snapshot of the fleet that every engine actor keeps
 * current through the {@link SlotStatus#TOPIC} topic. One per node, so choosing needs no remote call.
 *
 * <p>This first cut picks, among Ready slots of the requested model in a pool the tenant may use, the
 * one with the most free parallel sequences, ties broken by slot id. The feasibility prefilter and
 * scoring policies come with the scheduler.
 *
 * <p>{@link PlaceRun} replies {@link Placed} or {@link Rejected} with {@code no_ready_slot} when no
 * slot of the model in the tenant's pools is Ready (the edge has already answered {@code model_not_found}
 * for a model none of the tenant's pools serves);
 * {@link GetFleet} replies the live statuses.
 */
public final class PlacementActor {

  public interface Command extends CborSerializable {}

  /** @param maxTokens the run's token budget: only slots whose context per sequence holds it are feasible */
  public record PlaceRun(String modelId, Set<String> pools, int maxTokens, ActorRef<PlacementReply> replyTo) implements Command {}

  public record GetFleet(ActorRef<Fleet> replyTo) implements Command {}

  private record StatusUpdate(SlotStatus status) implements Command {}

  public sealed interface PlacementReply extends CborSerializable {}

  public record Placed(SlotStatus slot) implements PlacementReply {}

  public record Rejected(DalangError error) implements PlacementReply {}

  /** The live slots, stale ones already left out. */
  public record Fleet(List<SlotStatus> slots) implements CborSerializable {
    public boolean anyReady() {
      return slots.stream().anyMatch(SlotStatus::ready);
    }
  }

  public static Behavior<Command> create(ActorRef<Topic.Command<SlotStatus>> topic, Duration statusTtl) {
    return Behaviors.setup(ctx -> {
      topic.tell(Topic.subscribe(ctx.messageAdapter(SlotStatus.class, StatusUpdate::new)));
      Map<String, SlotStatus> slots = new HashMap<>();
      long ttlMs = statusTtl.toMillis();
      return Behaviors.receive(Command.class)
          .onMessage(StatusUpdate.class, u -> {
            SlotStatus prev = slots.get(u.status().slotId());
            if (prev == null || prev.publishedAtMillis() <= u.status().publishedAtMillis()) slots.put(u.status().slotId(), u.status());
            return Behaviors.same();
          })
          .onMessage(PlaceRun.class, m -> {
            m.replyTo().tell(place(live(slots, ttlMs), m.modelId(), m.pools(), m.maxTokens()));
            return Behaviors.same();
          })
          .onMessage(GetFleet.class, m -> {
            m.replyTo().tell(new Fleet(live(slots, ttlMs)));
            return Behaviors.same();
          })
          .build();
    });
  }

  static List<SlotStatus> live(Map<String, SlotStatus> slots, long ttlMs) {
    long now = System.currentTimeMillis();
    slots.values().removeIf(s -> now - s.publishedAtMillis() > ttlMs * 10);
    return slots.values().stream().filter(s -> now - s.publishedAtMillis() <= ttlMs)
        .sorted(Comparator.comparing(SlotStatus::slotId)).toList();
  }

  static PlacementReply place(List<SlotStatus> fleet, String modelId, Set<String> pools, int maxTokens) {
    var serving = fleet.stream().filter(s -> s.modelId().equals(modelId) && pools.contains(s.poolId())).toList();
    // Feasibility before scoring: a slot whose context cannot hold the requested tokens never serves the run.
    var candidates = serving.stream().filter(s -> s.contextPerSequence() > maxTokens).toList();
    if (candidates.isEmpty() && !serving.isEmpty()) {
      return new Rejected(DalangError.of(ErrorCode.CONTEXT_LENGTH_EXCEEDED, "max_tokens " + maxTokens
          + " does not fit the context of any slot serving '" + modelId + "' ("
          + serving.stream().map(s -> s.slotId() + ": " + s.contextPerSequence() + " tokens").toList() + ")"));
    }
    if (candidates.isEmpty()) {
      // The edge already checked that one of the tenant's pools serves the model: its slots are just not live yet.
      return new Rejected(DalangError.of(ErrorCode.NO_READY_SLOT, "no slot of model '" + modelId + "' is live yet; retry shortly"));
    }
    return candidates.stream().filter(SlotStatus::ready)
        .max(Comparator.comparingInt(SlotStatus::slotsFree).thenComparing(SlotStatus::slotId, Comparator.reverseOrder()))
        .<PlacementReply>map(Placed::new)
        .orElseGet(() -> new Rejected(DalangError.of(ErrorCode.NO_READY_SLOT, "model '" + modelId + "' has no Ready slot right now ("
            + candidates.stream().map(s -> s.slotId() + ": " + s.state()).toList() + "); retry shortly")));
  }
}
