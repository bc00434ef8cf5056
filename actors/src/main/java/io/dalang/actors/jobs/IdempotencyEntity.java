package io.dalang.actors.jobs;

import io.dalang.actors.EntitySupervision;
import io.dalang.actors.NodeRoles;
import io.dalang.engine.Digests;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.error.Refusal;
import java.time.Duration;
import java.time.Instant;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * One tenant's {@code Idempotency-Key}, identified by the SHA-256 of tenant and key: which request it
 * was first used with (a hash of it) and which job runs that request, until the key expires.
 *
 * <p>{@link ClaimKey} replies a {@link Claim}: the proposed job id when the key is new (or expired), the
 * job it already names when the request is the same; an error when the key names a different request.
 * {@link PeekKey} replies what the key names now, persisting nothing.
 */
public final class IdempotencyEntity
    extends EventSourcedBehaviorWithEnforcedReplies<IdempotencyEntity.Command, IdempotencyEntity.Event, IdempotencyEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "IdempotencyKey");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), System::currentTimeMillis)).withRole(NodeRoles.CONTROL));
  }

  /** The entity id of {@code key} for {@code tenantId}: keys of different tenants never meet. */
  public static String entityId(String tenantId, String key) {
    return Digests.sha256(tenantId + "\n" + key);
  }

  public static Behavior<Command> create(String id, LongSupplier clock) {
    return new IdempotencyEntity(id, clock);
  }

  private final LongSupplier clock;

  private IdempotencyEntity(String id, LongSupplier clock) {
    super(PersistenceId.of(ENTITY_KEY.name(), id), EntitySupervision.JOURNAL_BACKOFF);
    this.clock = clock;
  }

  public sealed interface Command extends CborSerializable {}

  /**
   * @param requestHash what the request hashes to, so a repeat can be told from another request
   * @param jobId the job to name if the key is new
   * @param ttl how long the key names the job from now, if it is new
   */
  public record ClaimKey(String tenantId, String requestHash, String jobId, Duration ttl, ActorRef<StatusReply<Claim>> replyTo)
      implements Command {}

  /** Replies the {@link KeyView} of the key as it is now; changes nothing. */
  public record PeekKey(ActorRef<KeyView> replyTo) implements Command {}

  /** What a key names now: {@code jobId} and {@code requestHash} are null when it is new (or expired). */
  public record KeyView(String jobId, String requestHash) implements CborSerializable {}

  public sealed interface Event extends CborSerializable {}

  public record KeyClaimed(String tenantId, String requestHash, String jobId, Instant claimedAt, Instant expiresAt) implements Event {}

  public sealed interface State extends CborSerializable {}

  public record Unclaimed() implements State {}

  public record Claimed(String tenantId, String requestHash, String jobId, Instant claimedAt, Instant expiresAt) implements State {}

  /** @param fresh true when this claim made the key name {@code jobId}; false when it named it already */
  public record Claim(String jobId, boolean fresh, Instant expiresAt) implements CborSerializable {}

  @Override
  public State emptyState() {
    return new Unclaimed();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forAnyState().onCommand(ClaimKey.class, this::claim).onCommand(PeekKey.class, (s, c) -> Effect().reply(c.replyTo(),
        s instanceof Claimed k && Instant.ofEpochMilli(clock.getAsLong()).isBefore(k.expiresAt()) ? new KeyView(k.jobId(), k.requestHash())
            : new KeyView(null, null)));
    return b.build();
  }

  private ReplyEffect<Event, State> claim(State s, ClaimKey c) {
    Instant now = Instant.ofEpochMilli(clock.getAsLong());
    if (s instanceof Claimed k && now.isBefore(k.expiresAt())) {
      if (!k.requestHash().equals(c.requestHash())) {
        return Effect().reply(c.replyTo(), StatusReply.error(Refusal.text(ErrorCode.IDEMPOTENCY_CONFLICT, "this Idempotency-Key was used with a different request (job "
            + k.jobId() + "); send a new key for a new request, or the same request to get its result")));
      }
      return Effect().reply(c.replyTo(), StatusReply.success(new Claim(k.jobId(), false, k.expiresAt())));
    }
    return Effect().persist(new KeyClaimed(c.tenantId(), c.requestHash(), c.jobId(), now, now.plus(c.ttl())))
        .thenReply(c.replyTo(), st -> StatusReply.success(new Claim(c.jobId(), true, ((Claimed) st).expiresAt())));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forAnyState().onEvent(KeyClaimed.class, (s, e) -> new Claimed(e.tenantId(), e.requestHash(), e.jobId(), e.claimedAt(), e.expiresAt()));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
