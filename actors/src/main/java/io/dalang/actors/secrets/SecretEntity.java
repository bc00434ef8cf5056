package io.dalang.actors.secrets;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.actors.secrets.SecretAccess.Action;
import io.dalang.actors.secrets.SecretAccess.Outcome;
import io.dalang.actors.secrets.SecretCipher.Sealed;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The secrets of one tenant (entity id = tenant id), in namespaces, each secret versioned. Values are
 * AES-256-GCM ciphertexts under the master key ({@link SecretCipher}); events, snapshots and every
 * message carry ciphertext only, never a value. Values travel <em>sealed</em> both ways: a {@link Put}
 * carries the value sealed for transit by the caller, which the entity re-seals as the new version; a
 * {@link Get} replies the stored ciphertext, which the caller opens. Every node holds the same master
 * keys, so this works wherever sharding places the entity; {@link SecretsClient} does both ends.
 *
 * <p>Every command is audited through the hook given to {@link #init}, reads included; a {@link Get}
 * whose audit fails is not served. Replies carry a typed {@link DalangError} instead of a value when a
 * command is rejected, and then nothing is persisted:
 * <ul>
 *   <li>{@link Put} → {@link PutReply} with the new version ({@code invalid_request} for a bad name)
 *   <li>{@link Get} → {@link GetReply} with the sealed value of the latest or the asked version
 *       ({@code not_found})
 *   <li>{@link ListSecrets} → {@link SecretList}: names, versions, key ids and times, never values
 *   <li>{@link Delete} → {@link DeleteReply} with the number of versions removed ({@code not_found});
 *       version numbers are never reused
 *   <li>{@link RotateMasterKey} → {@link RotationReport}: every version not under the current master key
 *       is re-encrypted under it ({@link Rewrapped} events), all or nothing ({@code internal} naming the
 *       versions whose key this node lacks)
 * </ul>
 */
public final class SecretEntity
    extends EventSourcedBehaviorWithEnforcedReplies<SecretEntity.Command, SecretEntity.Event, SecretEntity.State> {

  /** Not "Secret": Pekko sharding starts its log lines with the type name, and "Secret: …" reads as a credential to the redactor. */
  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "TenantSecrets");

  private static final Logger log = LoggerFactory.getLogger(SecretEntity.class);

  /**
   * @param audit called on the entity's thread with every {@link SecretAccess}; must not block (tell an
   *     actor, append to a queue). If it throws on a {@link Get}, the value is not handed out.
   */
  public static void init(ActorSystem<?> system, MasterKeys keys, Consumer<SecretAccess> audit) {
    init(system, keys, audit, null);
  }

  /**
   * As {@link #init(ActorSystem, MasterKeys, Consumer)}, but a successful {@link Get} goes to {@code
   * durableRead} instead of {@code audit}, and its reply waits until the stage it returns completes (the
   * node stores the read in the audit ledger): if it fails, the ciphertext is not handed out and the
   * reply carries the failure's error ({@code audit_unavailable}).
   */
  public static void init(ActorSystem<?> system, MasterKeys keys, Consumer<SecretAccess> audit,
      Function<SecretAccess, CompletionStage<?>> durableRead) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId(), keys, audit, durableRead))
        .withRole(NodeRoles.CONTROL));
  }

  public static Behavior<Command> create(String tenantId, MasterKeys keys, Consumer<SecretAccess> audit) {
    return create(tenantId, keys, audit, null);
  }

  public static Behavior<Command> create(String tenantId, MasterKeys keys, Consumer<SecretAccess> audit,
      Function<SecretAccess, CompletionStage<?>> durableRead) {
    return new SecretEntity(tenantId, keys, audit, durableRead);
  }

  private final String tenantId;
  private final MasterKeys keys;
  private final Consumer<SecretAccess> audit;
  private final Function<SecretAccess, CompletionStage<?>> durableRead;

  private SecretEntity(String tenantId, MasterKeys keys, Consumer<SecretAccess> audit, Function<SecretAccess, CompletionStage<?>> durableRead) {
    super(PersistenceId.of(ENTITY_KEY.name(), tenantId), EntitySupervision.JOURNAL_BACKOFF);
    this.tenantId = tenantId;
    this.keys = keys;
    this.audit = audit;
    this.durableRead = durableRead;
  }

  // Protocol

  public sealed interface Command extends CborSerializable {}

  /** @param value the value sealed by the caller for {@link SecretId#inTransit} of this tenant, namespace and name */
  public record Put(String namespace, String name, Sealed value, String actor, ActorRef<PutReply> replyTo) implements Command {}

  /** @param version the version to read; 0 for the latest */
  public record Get(String namespace, String name, int version, String actor, ActorRef<GetReply> replyTo) implements Command {}

  /** @param namespace the namespace to list; empty for all */
  public record ListSecrets(String namespace, String actor, ActorRef<SecretList> replyTo) implements Command {}

  public record Delete(String namespace, String name, String actor, ActorRef<DeleteReply> replyTo) implements Command {}

  public record RotateMasterKey(String actor, ActorRef<RotationReport> replyTo) implements Command {}

  /** A reply that failed carries its typed error and nothing else. */
  public interface Reply extends CborSerializable {
    DalangError error();
  }

  public record PutReply(VersionInfo version, DalangError error) implements Reply {}

  public record GetReply(SealedSecret secret, DalangError error) implements Reply {}

  public record SecretList(List<SecretInfo> secrets, DalangError error) implements Reply {}

  public record DeleteReply(int versionsDeleted, DalangError error) implements Reply {}

  /**
   * @param rewrapped versions re-encrypted under {@code keyId} by this rotation
   * @param alreadyCurrent versions that were under it already
   */
  public record RotationReport(int rewrapped, int alreadyCurrent, String keyId, DalangError error) implements Reply {}

  /** One stored version as listings show it. */
  public record VersionInfo(int version, String keyId, Instant createdAt) implements CborSerializable {}

  public record SecretInfo(String namespace, String name, List<VersionInfo> versions) implements CborSerializable {}

  /** A stored version still encrypted, for the caller to open as {@link #id()}. */
  public record SealedSecret(String tenant, String namespace, String name, int version, Instant createdAt, Sealed sealed)
      implements CborSerializable {
    public SecretId id() {
      return new SecretId(tenant, namespace, name, version);
    }
  }

  public sealed interface Event extends CborSerializable {}

  public record SecretPut(String namespace, String name, int version, Sealed sealed, Instant at) implements Event {}

  public record SecretDeleted(String namespace, String name, Instant at) implements Event {}

  public record Rewrapped(String namespace, String name, int version, Sealed sealed, Instant at) implements Event {}

  public sealed interface State extends CborSerializable {}

  /**
   * Every secret of the tenant by {@code namespace/name}. A deleted secret keeps its entry with no
   * versions, so the next put does not reuse a version number.
   */
  public record Vault(Map<String, Entry> entries) implements State {
    Entry entry(String namespace, String name) {
      return entries.get(key(namespace, name));
    }

    Vault with(Entry e) {
      var m = new HashMap<>(entries);
      m.put(key(e.namespace(), e.name()), e);
      return new Vault(Map.copyOf(m));
    }

    static String key(String namespace, String name) {
      return namespace + "/" + name;
    }
  }

  public record Entry(String namespace, String name, int lastVersion, List<StoredVersion> versions) implements CborSerializable {
    StoredVersion version(int v) {
      if (v == 0) return versions.isEmpty() ? null : versions.get(versions.size() - 1);
      return versions.stream().filter(s -> s.version() == v).findFirst().orElse(null);
    }

    SecretInfo info() {
      return new SecretInfo(namespace, name, versions.stream().map(StoredVersion::info).toList());
    }
  }

  public record StoredVersion(int version, Sealed sealed, Instant createdAt) implements CborSerializable {
    VersionInfo info() {
      return new VersionInfo(version, sealed.keyId(), createdAt);
    }
  }

  @Override
  public State emptyState() {
    return new Vault(Map.of());
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    var b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Vault.class)
        .onCommand(Put.class, this::put)
        .onCommand(Get.class, this::get)
        .onCommand(ListSecrets.class, this::list)
        .onCommand(Delete.class, this::delete)
        .onCommand(RotateMasterKey.class, this::rotate);
    return b.build();
  }

  private ReplyEffect<Event, State> put(Vault s, Put c) {
    DalangError invalid = firstError(SecretNames.check(c.namespace(), c.name()), SecretNames.checkActor(c.actor()));
    if (invalid != null) return rejected(c.namespace(), c.name(), c.actor(), Action.PUT, Outcome.REJECTED, c.replyTo(), new PutReply(null, invalid));
    byte[] plain;
    try {
      plain = SecretCipher.open(keys, SecretId.inTransit(tenantId, c.namespace(), c.name()), c.value());
    } catch (SecretCryptoException e) {
      return rejected(c.namespace(), c.name(), c.actor(), Action.PUT, Outcome.FAILED, c.replyTo(), new PutReply(null, e.toError()));
    }
    Entry e = s.entry(c.namespace(), c.name());
    int version = (e == null ? 0 : e.lastVersion()) + 1;
    Sealed sealed;
    try {
      sealed = SecretCipher.seal(keys.current(), new SecretId(tenantId, c.namespace(), c.name(), version), plain);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
    var event = new SecretPut(c.namespace(), c.name(), version, sealed, Instant.now());
    return Effect().persist(event)
        .thenRun(st -> audited(c.namespace(), c.name(), version, c.actor(), Action.PUT, Outcome.OK))
        .thenReply(c.replyTo(), st -> new PutReply(new VersionInfo(version, sealed.keyId(), event.at()), null));
  }

  private ReplyEffect<Event, State> get(Vault s, Get c) {
    DalangError invalid = firstError(SecretNames.check(c.namespace(), c.name()), SecretNames.checkActor(c.actor()),
        c.version() < 0 ? DalangError.of(ErrorCode.INVALID_REQUEST, "version must be 0 (latest) or positive") : null);
    if (invalid != null) return rejected(c.namespace(), c.name(), c.actor(), Action.GET, Outcome.REJECTED, c.replyTo(), new GetReply(null, invalid));
    Entry e = s.entry(c.namespace(), c.name());
    StoredVersion v = e == null ? null : e.version(c.version());
    if (v == null) {
      var missing = DalangError.of(ErrorCode.NOT_FOUND, "tenant " + tenantId + " has no secret " + c.namespace() + "/" + c.name()
          + (c.version() == 0 ? "" : " version " + c.version()));
      return rejected(c.namespace(), c.name(), c.actor(), Action.GET, Outcome.NOT_FOUND, c.replyTo(), new GetReply(null, missing));
    }
    var served = new GetReply(new SealedSecret(tenantId, c.namespace(), c.name(), v.version(), v.createdAt(), v.sealed()), null);
    if (durableRead != null) return replyOnceStored(c, v.version(), served);
    if (!audited(c.namespace(), c.name(), v.version(), c.actor(), Action.GET, Outcome.OK)) {
      return Effect().reply(c.replyTo(), new GetReply(null,
          DalangError.of(ErrorCode.INTERNAL, "the read of secret " + c.namespace() + "/" + c.name() + " could not be audited, so it was not served")));
    }
    return Effect().reply(c.replyTo(), served);
  }

  /**
   * Replies {@code served} once the read is stored in the ledger, else the failure's error. Nothing of the
   * state is touched after this returns, so replying from the stage's thread is safe.
   */
  private ReplyEffect<Event, State> replyOnceStored(Get c, int version, GetReply served) {
    var read = new SecretAccess(tenantId, c.namespace(), c.name(), version, c.actor(), Action.GET, Outcome.OK, Instant.now());
    CompletionStage<?> stored;
    try {
      stored = durableRead.apply(read);
    } catch (RuntimeException e) {
      stored = CompletableFuture.failedFuture(e);
    }
    stored.whenComplete((ok, err) -> c.replyTo().tell(err == null ? served : new GetReply(null, unaudited(c, err))));
    return Effect().noReply();
  }

  private static DalangError unaudited(Get c, Throwable err) {
    Throwable t = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    if (t instanceof DalangException d) return d.toError();
    log.error("secrets: the read of {}/{} could not be audited: {}", c.namespace(), c.name(), t.toString());
    return DalangError.of(ErrorCode.INTERNAL, "the read of secret " + c.namespace() + "/" + c.name() + " could not be audited, so it was not served");
  }

  private ReplyEffect<Event, State> list(Vault s, ListSecrets c) {
    String ns = c.namespace() == null ? "" : c.namespace();
    DalangError invalid = firstError(ns.isEmpty() ? null : SecretNames.checkNamespace(ns), SecretNames.checkActor(c.actor()));
    if (invalid != null) return rejected(ns, "", c.actor(), Action.LIST, Outcome.REJECTED, c.replyTo(), new SecretList(List.of(), invalid));
    var infos = s.entries().values().stream()
        .filter(e -> !e.versions().isEmpty() && (ns.isEmpty() || e.namespace().equals(ns)))
        .sorted(Comparator.comparing(Entry::namespace).thenComparing(Entry::name))
        .map(Entry::info).toList();
    audited(ns, "", 0, c.actor(), Action.LIST, Outcome.OK);
    return Effect().reply(c.replyTo(), new SecretList(infos, null));
  }

  private ReplyEffect<Event, State> delete(Vault s, Delete c) {
    DalangError invalid = firstError(SecretNames.check(c.namespace(), c.name()), SecretNames.checkActor(c.actor()));
    if (invalid != null) return rejected(c.namespace(), c.name(), c.actor(), Action.DELETE, Outcome.REJECTED, c.replyTo(), new DeleteReply(0, invalid));
    Entry e = s.entry(c.namespace(), c.name());
    if (e == null || e.versions().isEmpty()) {
      var missing = DalangError.of(ErrorCode.NOT_FOUND, "tenant " + tenantId + " has no secret " + c.namespace() + "/" + c.name());
      return rejected(c.namespace(), c.name(), c.actor(), Action.DELETE, Outcome.NOT_FOUND, c.replyTo(), new DeleteReply(0, missing));
    }
    int count = e.versions().size();
    return Effect().persist(new SecretDeleted(c.namespace(), c.name(), Instant.now()))
        .thenRun(st -> audited(c.namespace(), c.name(), e.lastVersion(), c.actor(), Action.DELETE, Outcome.OK))
        .thenReply(c.replyTo(), st -> new DeleteReply(count, null));
  }

  private ReplyEffect<Event, State> rotate(Vault s, RotateMasterKey c) {
    DalangError invalid = SecretNames.checkActor(c.actor());
    if (invalid != null) return rejected("", "", c.actor(), Action.ROTATE, Outcome.REJECTED, c.replyTo(), new RotationReport(0, 0, null, invalid));
    MasterKey current = keys.current();
    var events = new ArrayList<Event>();
    var unreadable = new ArrayList<String>();
    int alreadyCurrent = 0;
    Instant now = Instant.now();
    for (Entry e : s.entries().values()) {
      for (StoredVersion v : e.versions()) {
        if (v.sealed().keyId().equals(current.id())) {
          alreadyCurrent++;
          continue;
        }
        var id = new SecretId(tenantId, e.namespace(), e.name(), v.version());
        try {
          byte[] plain = SecretCipher.open(keys, id, v.sealed());
          try {
            events.add(new Rewrapped(e.namespace(), e.name(), v.version(), SecretCipher.seal(current, id, plain), now));
          } finally {
            Arrays.fill(plain, (byte) 0);
          }
        } catch (SecretCryptoException ex) {
          unreadable.add(e.namespace() + "/" + e.name() + "@" + v.version() + " (key " + v.sealed().keyId() + ", " + ex.reason() + ")");
        }
      }
    }
    if (!unreadable.isEmpty()) {
      var error = DalangError.of(ErrorCode.INTERNAL, "nothing re-encrypted: " + unreadable.size() + " version(s) do not decrypt on this node: "
          + String.join(", ", unreadable.subList(0, Math.min(10, unreadable.size())))
          + "; configure the master key they were written with as the previous key and rotate again");
      return rejected("", "", c.actor(), Action.ROTATE, Outcome.FAILED, c.replyTo(), new RotationReport(0, alreadyCurrent, current.id(), error));
    }
    var report = new RotationReport(events.size(), alreadyCurrent, current.id(), null);
    if (events.isEmpty()) {
      audited("", "", 0, c.actor(), Action.ROTATE, Outcome.OK);
      return Effect().reply(c.replyTo(), report);
    }
    return Effect().persist(events)
        .thenRun(st -> audited("", "", 0, c.actor(), Action.ROTATE, Outcome.OK))
        .thenReply(c.replyTo(), st -> report);
  }

  private <R> ReplyEffect<Event, State> rejected(String namespace, String name, String actor, Action action, Outcome outcome,
      ActorRef<R> replyTo, R reply) {
    audited(namespace, name, 0, actor, action, outcome);
    return Effect().reply(replyTo, reply);
  }

  /** Calls the audit hook; false (and logged, without any value) when it failed. */
  private boolean audited(String namespace, String name, int version, String actor, Action action, Outcome outcome) {
    try {
      audit.accept(new SecretAccess(tenantId, namespace, name, version, actor, action, outcome, Instant.now()));
      return true;
    } catch (RuntimeException e) {
      log.error("secrets: the audit hook failed for {} of {}/{}/{} by {}", action, tenantId, namespace, name, actor, e);
      return false;
    }
  }

  private static DalangError firstError(DalangError... errors) {
    for (DalangError e : errors) {
      if (e != null) return e;
    }
    return null;
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Vault.class)
        .onEvent(SecretPut.class, (s, e) -> {
          Entry old = s.entry(e.namespace(), e.name());
          var versions = new ArrayList<>(old == null ? List.<StoredVersion>of() : old.versions());
          versions.add(new StoredVersion(e.version(), e.sealed(), e.at()));
          return s.with(new Entry(e.namespace(), e.name(), e.version(), List.copyOf(versions)));
        })
        .onEvent(SecretDeleted.class, (s, e) -> {
          Entry old = s.entry(e.namespace(), e.name());
          return s.with(new Entry(e.namespace(), e.name(), old.lastVersion(), List.of()));
        })
        .onEvent(Rewrapped.class, (s, e) -> {
          Entry old = s.entry(e.namespace(), e.name());
          var versions = old.versions().stream()
              .map(v -> v.version() == e.version() ? new StoredVersion(v.version(), e.sealed(), v.createdAt()) : v).toList();
          return s.with(new Entry(old.namespace(), old.name(), old.lastVersion(), versions));
        });
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
