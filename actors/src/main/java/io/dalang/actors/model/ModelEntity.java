package io.dalang.actors.model;

import io.dalang.actors.EntitySupervision;
import io.dalang.actors.NodeRoles;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.Refusal;
import io.dalang.protocols.model.ModelRef;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
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
 * A catalog model, by name: its versions, each a verified blob with its GGUF facts and lineage
 * ({@link ModelVersion}). Pools name a version ({@code name@v2}) or the latest ({@code name}).
 *
 * <p>{@link AddVersion} replies the model with the new version; the version is {@code v<sequence>} unless
 * the request names one; a version name already taken, or a blob already cataloged under this name,
 * is refused (conflict) and persists nothing. {@link RemoveVersions} removes one version or all; whether a
 * pool still uses it is checked by the caller (pools are other entities), the entity only removes.
 * Sequence numbers are never reused, also after every version was removed.
 */
public final class ModelEntity
    extends EventSourcedBehaviorWithEnforcedReplies<ModelEntity.Command, ModelEntity.Event, ModelEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Model");
  /** The most versions one model keeps; more is refused (remove old ones first). */
  public static final int MAX_VERSIONS = 64;

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())).withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String name) {
    return new ModelEntity(name);
  }

  /** The model a reference names, read through sharding. */
  public static CompletionStage<ModelView> get(ActorSystem<?> system, String name, Duration timeout) {
    return ClusterSharding.get(system).entityRefFor(ENTITY_KEY, name).ask(GetModel::new, timeout);
  }

  private final String name;

  private ModelEntity(String name) {
    super(PersistenceId.of(ENTITY_KEY.name(), name), EntitySupervision.JOURNAL_BACKOFF);
    this.name = name;
  }

  public sealed interface Command extends CborSerializable {}

  /** Adds a verified blob as a version; {@code version.version()} null or blank lets the catalog name it {@code v<n>}. */
  public record AddVersion(ModelVersion version, ActorRef<StatusReply<ModelView>> replyTo) implements Command {}

  /** Removes {@code version}, or every version when it is null; replies the versions removed. */
  public record RemoveVersions(String version, ActorRef<StatusReply<Removed>> replyTo) implements Command {}

  /** The versions a {@link RemoveVersions} removed. */
  public record Removed(List<ModelVersion> versions) implements CborSerializable {
    public Removed {
      versions = List.copyOf(versions);
    }
  }

  public record GetModel(ActorRef<ModelView> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  public record VersionAdded(ModelVersion version) implements Event {}

  public record VersionRemoved(String version, java.time.Instant removedAt) implements Event {}

  /** The versions in the order they were added, and the last sequence number given (never reused). */
  public record State(List<ModelVersion> versions, int lastSequence) implements CborSerializable {
    public State {
      versions = List.copyOf(versions);
    }

    Optional<ModelVersion> version(String v) {
      return versions.stream().filter(x -> x.version().equals(v)).findFirst();
    }
  }

  /** What a reader sees; {@code exists} is false when the model has no version. */
  public record ModelView(String name, List<ModelVersion> versions) implements CborSerializable {
    public ModelView {
      versions = List.copyOf(versions);
    }

    public boolean exists() {
      return !versions.isEmpty();
    }

    /** The version a reference asks for: the named one, or the latest (highest sequence). */
    public Optional<ModelVersion> resolve(ModelRef ref) {
      if (ref.latest()) return versions.stream().max(Comparator.comparingInt(ModelVersion::sequence));
      return versions.stream().filter(v -> v.version().equals(ref.version())).findFirst();
    }
  }

  @Override
  public State emptyState() {
    return new State(List.of(), 0);
  }

  private ModelView view(State s) {
    return new ModelView(name, s.versions());
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(AddVersion.class, this::onAdd)
        .onCommand(RemoveVersions.class, this::onRemove)
        .onCommand(GetModel.class, (s, c) -> Effect().reply(c.replyTo(), view(s)))
        .build();
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onAdd(State s, AddVersion c) {
    ModelVersion v = c.version();
    if (v == null || v.sha256() == null || v.sha256().length() != 64) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid("a version needs the sha256 of its blob")));
    }
    if (s.versions().size() >= MAX_VERSIONS) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid(
          "model " + name + " has " + MAX_VERSIONS + " versions, the most it keeps; remove old ones first")));
    }
    int sequence = s.lastSequence() + 1;
    String given = v.version() == null || v.version().isBlank() ? null : v.version();
    // An operator may have named a version v<n> ahead of the count: the next free number is taken then.
    while (given == null && s.version("v" + sequence).isPresent()) sequence++;
    String version = given != null ? given : "v" + sequence;
    if (given != null && !ModelRef.VERSION.matcher(given).matches()) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid("version '" + given + "' is not a valid version name")));
    }
    if (s.version(version).isPresent()) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("model " + name + " already has a version " + version)));
    }
    var same = s.versions().stream().filter(x -> x.sha256().equals(v.sha256())).findFirst();
    if (same.isPresent()) {
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict(
          "model " + name + "@" + same.get().version() + " already is this blob (sha256 " + v.sha256().substring(0, 12) + "…)")));
    }
    int seq = sequence;
    return Effect().persist(new VersionAdded(v.withVersion(version, seq))).thenReply(c.replyTo(), st -> StatusReply.success(view(st)));
  }

  private org.apache.pekko.persistence.typed.javadsl.ReplyEffect<Event, State> onRemove(State s, RemoveVersions c) {
    List<ModelVersion> gone = c.version() == null ? s.versions() : s.version(c.version()).map(List::of).orElse(List.of());
    if (gone.isEmpty()) {
      String what = c.version() == null ? "model " + name : "model " + name + "@" + c.version();
      return Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound(what + " does not exist")));
    }
    var now = java.time.Instant.now();
    List<Event> events = gone.stream().<Event>map(v -> new VersionRemoved(v.version(), now)).toList();
    return Effect().persist(events).thenReply(c.replyTo(), st -> StatusReply.success(new Removed(gone)));
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(VersionAdded.class, (s, e) -> {
          var vs = new ArrayList<>(s.versions());
          vs.add(e.version());
          return new State(vs, Math.max(s.lastSequence(), e.version().sequence()));
        })
        .onEvent(VersionRemoved.class, (s, e) -> new State(
            s.versions().stream().filter(v -> !v.version().equals(e.version())).toList(), s.lastSequence()))
        .build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
