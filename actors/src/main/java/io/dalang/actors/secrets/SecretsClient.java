package io.dalang.actors.secrets;

import io.dalang.actors.secrets.SecretEntity.Reply;
import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * The one way Dalang code reads and writes tenant secrets: seals a value before it leaves this JVM for
 * the {@link SecretEntity} (wherever sharding placed it) and opens what the entity hands back, so a
 * value is in clear only in the process that uses it. Failures complete the stage with a
 * {@link DalangException}: {@code invalid_request}, {@code not_found}, or {@code internal} for a
 * ciphertext this node cannot decrypt; an ask timeout fails it with Pekko's timeout exception.
 *
 * @see SecretEntity for what each command does and how it is audited
 */
public final class SecretsClient {
  private final ClusterSharding sharding;
  private final MasterKeys keys;
  private final Duration timeout;

  public SecretsClient(ActorSystem<?> system, MasterKeys keys, Duration askTimeout) {
    this.sharding = ClusterSharding.get(system);
    this.keys = keys;
    this.timeout = askTimeout;
  }

  /** Stores {@code value} as the next version of {@code namespace/name}. */
  public CompletionStage<SecretEntity.VersionInfo> put(String tenant, String namespace, String name, SecretValue value, String actor) {
    DalangError invalid = SecretNames.check(namespace, name);
    if (invalid != null) return CompletableFuture.failedFuture(invalid.toException());
    var sealed = value.use(bytes -> SecretCipher.seal(keys.current(), SecretId.inTransit(tenant, namespace, name), bytes));
    return ref(tenant).<SecretEntity.PutReply>ask(r -> new SecretEntity.Put(namespace, name, sealed, actor, r), timeout)
        .thenApply(r -> orThrow(r).version());
  }

  /**
   * The value of {@code version} (0: the latest) of {@code namespace/name}, in clear. The read is audited
   * by the entity; {@link SecretValue#destroy()} it after use.
   */
  public CompletionStage<SecretValue> get(String tenant, String namespace, String name, int version, String actor) {
    DalangError invalid = SecretNames.check(namespace, name);
    if (invalid != null) return CompletableFuture.failedFuture(invalid.toException());
    return ref(tenant).<SecretEntity.GetReply>ask(r -> new SecretEntity.Get(namespace, name, version, actor, r), timeout)
        .thenApply(r -> {
          var s = orThrow(r).secret();
          if (version != 0 && s.version() != version) {
            throw new DalangException(ErrorCode.INTERNAL, "asked for version " + version + " of " + namespace + "/" + name + ", got " + s.version());
          }
          // The binding is what this caller asked for, not what the reply says: a ciphertext of another
          // secret does not open here.
          return SecretValue.adopt(SecretCipher.open(keys, new SecretId(tenant, namespace, name, s.version()), s.sealed()));
        });
  }

  /** Names, versions, key ids and times of the tenant's secrets in {@code namespace} (empty: all). */
  public CompletionStage<List<SecretEntity.SecretInfo>> list(String tenant, String namespace, String actor) {
    return ref(tenant).<SecretEntity.SecretList>ask(r -> new SecretEntity.ListSecrets(namespace, actor, r), timeout)
        .thenApply(r -> orThrow(r).secrets());
  }

  /** Deletes every version of {@code namespace/name}; replies how many there were. */
  public CompletionStage<Integer> delete(String tenant, String namespace, String name, String actor) {
    return ref(tenant).<SecretEntity.DeleteReply>ask(r -> new SecretEntity.Delete(namespace, name, actor, r), timeout)
        .thenApply(r -> orThrow(r).versionsDeleted());
  }

  /** Re-encrypts every version of the tenant's secrets that is not under the current master key. */
  public CompletionStage<SecretEntity.RotationReport> rotateMasterKey(String tenant, String actor) {
    return ref(tenant).<SecretEntity.RotationReport>ask(r -> new SecretEntity.RotateMasterKey(actor, r), timeout)
        .thenApply(SecretsClient::orThrow);
  }

  private EntityRef<SecretEntity.Command> ref(String tenant) {
    return sharding.entityRefFor(SecretEntity.ENTITY_KEY, tenant);
  }

  private static <R extends Reply> R orThrow(R reply) {
    if (reply.error() != null) throw reply.error().toException();
    return reply;
  }
}
