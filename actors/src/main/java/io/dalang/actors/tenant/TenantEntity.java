package io.dalang.actors.tenant;

import io.dalang.actors.EntitySupervision;
import io.dalang.protocols.CborSerializable;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
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
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * A tenant: one internal team that calls Dalang with its API keys, and the pools it may use.
 *
 * <p>{@link CreateTenant} replies the new {@link TenantView} or an error if it exists;
 * {@link GrantPool} replies the updated view; {@link GetTenant} replies a view whose {@code exists} is
 * false for an unknown tenant.
 */
public final class TenantEntity
    extends EventSourcedBehaviorWithEnforcedReplies<TenantEntity.Command, TenantEntity.Event, TenantEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Tenant");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())));
  }

  public static Behavior<Command> create(String tenantId) {
    return new TenantEntity(tenantId);
  }

  private final String tenantId;

  private TenantEntity(String tenantId) {
    super(PersistenceId.of(ENTITY_KEY.name(), tenantId),
        EntitySupervision.JOURNAL_BACKOFF);
    this.tenantId = tenantId;
  }

  // Protocol

  public sealed interface Command extends CborSerializable {}

  public record CreateTenant(String displayName, List<String> pools, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  public record GrantPool(String poolId, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  public record GetTenant(ActorRef<TenantView> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record TenantCreated(String tenantId, String displayName, List<String> pools, Instant createdAt) implements Event {}

  public record PoolGranted(String poolId) implements Event {}

  public sealed interface State extends CborSerializable {}

  public record Empty() implements State {}

  public record Active(String tenantId, String displayName, Set<String> pools, Instant createdAt) implements State {
    Active withPool(String pool) {
      var p = new TreeSet<>(pools);
      p.add(pool);
      return new Active(tenantId, displayName, Set.copyOf(p), createdAt);
    }

    TenantView view() {
      return new TenantView(true, tenantId, displayName, List.copyOf(new TreeSet<>(pools)), createdAt);
    }
  }

  /** What callers see of a tenant. */
  public record TenantView(boolean exists, String tenantId, String displayName, List<String> pools, Instant createdAt)
      implements CborSerializable {
    static TenantView missing(String id) {
      return new TenantView(false, id, null, List.of(), null);
    }
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Empty.class)
        .onCommand(CreateTenant.class, (s, c) -> {
          if (c.displayName() == null || c.displayName().isBlank()) {
            return Effect().reply(c.replyTo(), StatusReply.error("displayName must not be blank"));
          }
          return Effect().persist(new TenantCreated(tenantId, c.displayName(), List.copyOf(c.pools()), Instant.now()))
              .thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
        })
        .onCommand(GrantPool.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error("tenant " + tenantId + " does not exist")))
        .onCommand(GetTenant.class, (s, c) -> Effect().reply(c.replyTo(), TenantView.missing(tenantId)));
    b.forStateType(Active.class)
        .onCommand(CreateTenant.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error("tenant " + tenantId + " already exists")))
        .onCommand(GrantPool.class, (s, c) -> s.pools().contains(c.poolId())
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
            : Effect().persist(new PoolGranted(c.poolId())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(GetTenant.class, (s, c) -> Effect().reply(c.replyTo(), s.view()));
    return b.build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Empty.class).onEvent(TenantCreated.class, (s, e) -> new Active(e.tenantId(), e.displayName(), Set.copyOf(e.pools()), e.createdAt()));
    b.forStateType(Active.class).onEvent(PoolGranted.class, (s, e) -> s.withPool(e.poolId()));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
