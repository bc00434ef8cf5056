package io.dalang.actors.provider;

import io.dalang.actors.EntitySupervision;
import io.dalang.actors.NodeRoles;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.Refusal;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
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
 * A provider: a remote OpenAI-compatible endpoint managed by the platform, which tenants name in their
 * fallback lists (they cannot name URLs). Its key is a secret of the platform ({@code platform:providers/<name>},
 * {@link #SECRET_NAMESPACE}), pinned by version and bound to the origin it was given for
 * ({@link ProviderSpec#keyOrigin}).
 *
 * <p>{@link CreateProvider} replies the new view (error if it exists or the spec is invalid);
 * {@link UpdateProvider} replies the updated view (error if it does not exist or the spec is invalid);
 * {@link DeleteProvider} replies the last view (error if it does not exist); {@link GetProvider} replies a
 * view whose {@code exists} is false for an unknown or deleted provider.
 */
public final class ProviderEntity
    extends EventSourcedBehaviorWithEnforcedReplies<ProviderEntity.Command, ProviderEntity.Event, ProviderEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Provider");
  /** The namespace of the platform's secrets that hold providers' keys, one per provider, named like it. */
  public static final String SECRET_NAMESPACE = "providers";

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())).withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String name) {
    return new ProviderEntity(name);
  }

  /** How the rest of the node reads a provider: by name, through sharding. */
  public static Function<String, CompletionStage<ProviderView>> lookup(ActorSystem<?> system, Duration timeout) {
    var sharding = ClusterSharding.get(system);
    return name -> sharding.entityRefFor(ENTITY_KEY, name).ask(GetProvider::new, timeout);
  }

  private final String name;

  private ProviderEntity(String name) {
    super(PersistenceId.of(ENTITY_KEY.name(), name), EntitySupervision.JOURNAL_BACKOFF);
    this.name = name;
  }

  public sealed interface Command extends CborSerializable {}

  public record CreateProvider(ProviderSpec spec, ActorRef<StatusReply<ProviderView>> replyTo) implements Command {}

  public record UpdateProvider(ProviderSpec spec, ActorRef<StatusReply<ProviderView>> replyTo) implements Command {}

  public record DeleteProvider(ActorRef<StatusReply<ProviderView>> replyTo) implements Command {}

  public record GetProvider(ActorRef<ProviderView> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record ProviderCreated(ProviderSpec spec, Instant createdAt) implements Event {}

  public record ProviderUpdated(ProviderSpec spec, Instant updatedAt) implements Event {}

  public record ProviderDeleted(Instant deletedAt) implements Event {}

  public sealed interface State extends CborSerializable {}

  /** Never created, or deleted: the name is free. */
  public record Empty() implements State {}

  public record Active(ProviderSpec spec, Instant createdAt, Instant updatedAt) implements State {}

  public record ProviderView(boolean exists, String name, ProviderSpec spec, Instant createdAt, Instant updatedAt)
      implements CborSerializable {
    public static ProviderView absent(String name) {
      return new ProviderView(false, name, null, null, null);
    }
  }

  @Override
  public State emptyState() {
    return new Empty();
  }

  private ProviderView view(State s) {
    return s instanceof Active a ? new ProviderView(true, name, a.spec(), a.createdAt(), a.updatedAt()) : ProviderView.absent(name);
  }

  private StatusReply<ProviderView> missing() {
    return StatusReply.error(Refusal.notFound("provider " + name + " does not exist"));
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Empty.class)
        .onCommand(CreateProvider.class, (s, c) -> {
          String problem = c.spec() == null ? "spec is required" : c.spec().problem();
          if (problem != null) return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(problem)));
          return Effect().persist(new ProviderCreated(c.spec(), Instant.now())).thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
        })
        .onCommand(UpdateProvider.class, (s, c) -> Effect().reply(c.replyTo(), missing()))
        .onCommand(DeleteProvider.class, (s, c) -> Effect().reply(c.replyTo(), missing()))
        .onCommand(GetProvider.class, (s, c) -> Effect().reply(c.replyTo(), view(s)));
    b.forStateType(Active.class)
        .onCommand(CreateProvider.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("provider " + name + " already exists"))))
        .onCommand(UpdateProvider.class, (s, c) -> {
          String problem = c.spec() == null ? "spec is required" : c.spec().problem();
          if (problem != null) return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(problem)));
          return Effect().persist(new ProviderUpdated(c.spec(), Instant.now())).thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
        })
        .onCommand(DeleteProvider.class, (s, c) -> {
          var last = view(s);
          return Effect().persist(new ProviderDeleted(Instant.now())).thenReply(c.replyTo(), st -> StatusReply.success(last));
        })
        .onCommand(GetProvider.class, (s, c) -> Effect().reply(c.replyTo(), view(s)));
    return b.build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Empty.class).onEvent(ProviderCreated.class, (s, e) -> new Active(e.spec(), e.createdAt(), e.createdAt()));
    b.forStateType(Active.class)
        .onEvent(ProviderUpdated.class, (s, e) -> new Active(e.spec(), s.createdAt(), e.updatedAt()))
        .onEvent(ProviderDeleted.class, (s, e) -> new Empty());
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
