package io.dalang.actors.run;

import io.dalang.actors.engine.EngineActor;
import io.dalang.actors.placement.SlotStatus;
import io.dalang.engine.Engine;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Where a {@link RunActor} is in its lifecycle, with what it knows there: {@code Admitting → Queued →
 * Generating → Finished}, {@code Cancelling} when the client left during the generation, and back from
 * {@code Generating} to {@code Queued} when the engine went away before it started the run.
 */
sealed interface RunState {

  /** The tenant's usage is asked whether the run may go on; {@code target} is the run's own pool, not asked yet. */
  record Admitting(Target target) implements RunState {}

  /** Submitted to {@code target}'s pool, waiting for a slot. */
  record Queued(Target target, int resubmits, long redispatchUntilNanos) implements RunState {}

  /**
   * Generating at a slot of the target's pool ({@code slot} set) or at a remote target ({@code remote}
   * set once it started).
   */
  record Generating(Target target, int resubmits, Slot slot, Engine.Generation remote) implements RunState {
    Generating withRemote(Engine.Generation g) {
      return new Generating(target, resubmits, slot, g);
    }
  }

  /** The client went away (or read too slowly) during the generation: waiting for the engine's end. */
  record Cancelling(Generating was) implements RunState {}

  /** The terminal event was written and the record sent. */
  record Finished() implements RunState {}

  /** The target the run is at in {@code s}; null once finished. */
  static Target targetOf(RunState s) {
    if (s instanceof Admitting a) return a.target();
    if (s instanceof Queued q) return q.target();
    if (s instanceof Generating g) return g.target();
    if (s instanceof Cancelling c) return c.was().target();
    return null;
  }

  /** The slot the run was dispatched to in {@code s}, null if none. */
  static Slot slotOf(RunState s) {
    if (s instanceof Generating g) return g.slot();
    if (s instanceof Cancelling c) return c.was().slot();
    return null;
  }

  /** Whether a pool's admission knows the run in {@code s}: it is then told when the run leaves it. */
  static boolean poolHasRun(RunState s) {
    return (s instanceof Queued || s instanceof Generating || s instanceof Cancelling) && targetOf(s).isPool();
  }

  /**
   * The target trying the run now: a pool ({@code poolId}, {@code modelId}) or a remote endpoint
   * ({@code poolId} null), with the relay of this attempt, the fallback targets left after it, and the
   * time the run last waited in a pool's queue (its record's queue time).
   */
  record Target(String servedBy, String poolId, String modelId, RunRelay relay, FallbackChain chain, long poolQueueMs) {
    boolean isPool() {
      return poolId != null;
    }
  }

  /** The slot a pool dispatched the run to, and its engine actor (watched). */
  record Slot(SlotStatus status, ActorRef<EngineActor.Command> engine) {}
}
