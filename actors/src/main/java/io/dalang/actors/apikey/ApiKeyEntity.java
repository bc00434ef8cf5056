package io.dalang.actors.apikey;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.Refusal;
import java.time.Instant;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;

/**
 * One API key, identified by the SHA-256 of the key itself: the key is never stored, only its hash,
 * and looking a key up is one message to the entity its hash names.
 *
 * <p>{@link IssueKey} binds the hash to a tenant (error if already issued); {@link RevokeKey} revokes
 * it for good; {@link ResolveKey} replies an {@link ApiKeyView} whose {@code active} says whether the
 * key authenticates; resolving a key never issued also passivates the entity (when sharded).
 */
public final class ApiKeyEntity
    extends EventSourcedBehaviorWithEnforcedReplies<ApiKeyEntity.Command, ApiKeyEntity.Event, ApiKeyEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "ApiKey");

  public static void init(ActorSystem<?> system) {
    // An unknown key's entity asks its shard to stop it as soon as it has answered: a flood of guessed
    // keys must not leave an idle entity per guess until passivation (the edge remembers the answer).
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> Behaviors.<Command>setup(self ->
        new ApiKeyEntity(ctx.getEntityId(), () -> ctx.getShard().tell(new ClusterSharding.Passivate<>(self.getSelf())))))
        .withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String keyHash) {
    return new ApiKeyEntity(keyHash, () -> {});
  }

  private final Runnable passivate;

  private ApiKeyEntity(String keyHash, Runnable passivate) {
    super(PersistenceId.of(ENTITY_KEY.name(), keyHash),
        EntitySupervision.JOURNAL_BACKOFF);
    this.passivate = passivate;
  }

  public sealed interface Command extends CborSerializable {}

  /**
   * @param keyId a short public name for the key (shown in listings and audit), not the secret
   * @param role what the key may do ({@link io.dalang.protocols.auth.Role#wireName()})
   */
  public record IssueKey(String tenantId, String keyId, String role, ActorRef<StatusReply<ApiKeyView>> replyTo) implements Command {}

  public record RevokeKey(ActorRef<StatusReply<ApiKeyView>> replyTo) implements Command {}

  public record ResolveKey(ActorRef<ApiKeyView> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  /** @param role null in events written before keys had roles: a tenant user */
  public record KeyIssued(String tenantId, String keyId, Instant issuedAt, String role) implements Event {}

  public record KeyRevoked(Instant revokedAt) implements Event {}

  public sealed interface State extends CborSerializable {}

  public record Unissued() implements State {}

  public record Active(String tenantId, String keyId, Instant issuedAt, String role) implements State {}

  public record Revoked(String tenantId, String keyId, Instant revokedAt, String role) implements State {}

  /** @param role the key's role, {@code tenant-user} for keys issued before roles existed */
  public record ApiKeyView(boolean active, String tenantId, String keyId, String role) implements CborSerializable {}

  @Override
  public State emptyState() {
    return new Unissued();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Unissued.class)
        .onCommand(IssueKey.class, (s, c) -> Effect().persist(new KeyIssued(c.tenantId(), c.keyId(), Instant.now(), c.role()))
            .thenReply(c.replyTo(), st -> StatusReply.success(view(st))))
        .onCommand(RevokeKey.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no such key"))))
        .onCommand(ResolveKey.class, (s, c) -> Effect().none().thenRun(st -> passivate.run()).thenReply(c.replyTo(), ApiKeyEntity::view));
    b.forStateType(Active.class)
        .onCommand(IssueKey.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("key already issued"))))
        .onCommand(RevokeKey.class, (s, c) -> Effect().persist(new KeyRevoked(Instant.now()))
            .thenReply(c.replyTo(), st -> StatusReply.success(view(st))))
        .onCommand(ResolveKey.class, (s, c) -> Effect().reply(c.replyTo(), view(s)));
    b.forStateType(Revoked.class)
        .onCommand(IssueKey.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("key was revoked and cannot be reissued"))))
        .onCommand(RevokeKey.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(view(s))))
        .onCommand(ResolveKey.class, (s, c) -> Effect().reply(c.replyTo(), view(s)));
    return b.build();
  }

  static ApiKeyView view(State s) {
    if (s instanceof Active a) return new ApiKeyView(true, a.tenantId(), a.keyId(), Role.ofStored(a.role()).wireName());
    if (s instanceof Revoked r) return new ApiKeyView(false, r.tenantId(), r.keyId(), Role.ofStored(r.role()).wireName());
    return new ApiKeyView(false, null, null, null);
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Unissued.class).onEvent(KeyIssued.class, (s, e) -> new Active(e.tenantId(), e.keyId(), e.issuedAt(), e.role()));
    b.forStateType(Active.class).onEvent(KeyRevoked.class, (s, e) -> new Revoked(s.tenantId(), s.keyId(), e.revokedAt(), s.role()));
    return b.build();
  }
}
