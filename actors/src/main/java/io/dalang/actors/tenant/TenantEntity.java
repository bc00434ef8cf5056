package io.dalang.actors.tenant;

import io.dalang.actors.NodeRoles;
import io.dalang.actors.EntitySupervision;
import io.dalang.actors.fallback.FallbackTarget;
import io.dalang.actors.jobs.JobLimits;
import io.dalang.protocols.CborSerializable;
import io.dalang.protocols.error.Refusal;
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
 * false for an unknown tenant. The tenant also lists its API keys ({@link RegisterKey},
 * {@link MarkKeyRevoked}: ids, roles and hashes, never the keys) and holds its {@link Quotas} and its
 * ordered fallback targets ({@link SetFallbacks} replies the updated view; a pool target must be one of
 * the tenant's pools, else it is an error and nothing is persisted).
 */
public final class TenantEntity
    extends EventSourcedBehaviorWithEnforcedReplies<TenantEntity.Command, TenantEntity.Event, TenantEntity.State> {

  public static final EntityTypeKey<Command> ENTITY_KEY = EntityTypeKey.create(Command.class, "Tenant");

  public static void init(ActorSystem<?> system) {
    ClusterSharding.get(system).init(Entity.of(ENTITY_KEY, ctx -> create(ctx.getEntityId())).withRole(NodeRoles.CONTROL));
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

  /** Lists a key issued to this tenant; an id already listed is an error. */
  public record RegisterKey(String keyId, String keyHash, String role, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  public record MarkKeyRevoked(String keyId, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  public record SetQuotas(Quotas quotas, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /** Replaces the tenant's ordered fallback list (empty: none); a provider target must be one granted to the tenant. */
  public record SetFallbacks(List<FallbackTarget> targets, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /** Lets the tenant's fallbacks name provider {@code provider} (whose existence the caller checked). */
  public record GrantProvider(String provider, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  /** Takes provider {@code provider} from the tenant, and with it every fallback target that names it. */
  public record RevokeProvider(String provider, ActorRef<StatusReply<TenantView>> replyTo) implements Command {}

  public sealed interface Event extends CborSerializable {}

  /**
   * @param providerGrants true for tenants made since provider grants existed (they start with none); null in
   *     older events, whose tenants keep the providers their fallbacks name ({@link Active#providerSet()})
   */
  public record TenantCreated(String tenantId, String displayName, List<String> pools, Instant createdAt, Boolean providerGrants)
      implements Event {}

  public record PoolGranted(String poolId) implements Event {}

  public record KeyRegistered(String keyId, String keyHash, String role, Instant issuedAt) implements Event {}

  public record KeyMarkedRevoked(String keyId, Instant revokedAt) implements Event {}

  public record QuotasSet(Quotas quotas) implements Event {}

  public record FallbacksSet(List<FallbackTarget> targets) implements Event {}

  public record ProviderGranted(String provider) implements Event {}

  public record ProviderRevoked(String provider) implements Event {}

  /**
   * A tenant's limits; 0 means no limit.
   *
   * @param requestsPerMinute runs started per calendar minute (UTC)
   * @param tokensPerDay prompt + completion tokens per calendar day (UTC)
   * @param concurrentJobs runs in flight (queued or generating) at once
   * @param queuedJobs runs waiting in one pool's queue at once
   * @param jobs limits on durable jobs; null (and null fields) for the node's defaults
   */
  public record Quotas(long requestsPerMinute, long tokensPerDay, int concurrentJobs, int queuedJobs, JobLimits jobs)
      implements CborSerializable {
    public static final Quotas NONE = new Quotas(0, 0, 0, 0);

    public Quotas(long requestsPerMinute, long tokensPerDay, int concurrentJobs, int queuedJobs) {
      this(requestsPerMinute, tokensPerDay, concurrentJobs, queuedJobs, JobLimits.DEFAULTS);
    }

    /** The job limits that hold for the tenant: its overrides over the node's {@code defaults}. */
    public JobLimits jobLimits(JobLimits defaults) {
      return jobs == null ? defaults : jobs.over(defaults);
    }
  }

  /** One key of the tenant as listings show it. */
  public record KeyInfo(String keyId, String keyHash, String role, boolean active, Instant issuedAt, Instant revokedAt)
      implements CborSerializable {}

  public sealed interface State extends CborSerializable {}

  public record Empty() implements State {}

  /**
   * @param keys by key id, in issue order; null in snapshots taken before keys were listed
   * @param fallbacks in order; null in snapshots taken before fallbacks existed
   * @param providers the platform's providers its fallbacks may name; null in tenants from before grants
   *     existed, which keep the providers their fallbacks named then ({@link #providerSet()})
   */
  public record Active(String tenantId, String displayName, Set<String> pools, Instant createdAt, List<KeyInfo> keys, Quotas quotas,
      List<FallbackTarget> fallbacks, Set<String> providers) implements State {
    Active(String tenantId, String displayName, Set<String> pools, Instant createdAt, List<KeyInfo> keys, Quotas quotas,
        List<FallbackTarget> fallbacks) {
      this(tenantId, displayName, pools, createdAt, keys, quotas, fallbacks, null);
    }

    Active withPool(String pool) {
      var p = new TreeSet<>(pools);
      p.add(pool);
      return new Active(tenantId, displayName, Set.copyOf(p), createdAt, keys, quotas, fallbacks, providers);
    }

    /** The providers granted: those given, or for a tenant from before grants, those its fallbacks named. */
    Set<String> providerSet() {
      if (providers != null) return providers;
      var named = new TreeSet<String>();
      for (FallbackTarget t : fallbackList()) if (!t.isPool() && !t.isLegacyUrl() && t.name() != null) named.add(t.name());
      return Set.copyOf(named);
    }

    Active withProvider(String provider, boolean granted) {
      var p = new TreeSet<>(providerSet());
      if (granted) p.add(provider);
      else p.remove(provider);
      // A provider taken away leaves the fallback list too: no run moves to it any more.
      List<FallbackTarget> f = granted ? fallbacks
          : fallbackList().stream().filter(t -> t.isPool() || t.isLegacyUrl() || !provider.equals(t.name())).toList();
      return new Active(tenantId, displayName, pools, createdAt, keys, quotas, f, Set.copyOf(p));
    }

    List<KeyInfo> keyList() {
      return keys == null ? List.of() : keys;
    }

    Quotas quotaSpec() {
      return quotas == null ? Quotas.NONE : quotas;
    }

    Active withKey(KeyInfo k) {
      var ks = new java.util.ArrayList<>(keyList());
      ks.add(k);
      return new Active(tenantId, displayName, pools, createdAt, List.copyOf(ks), quotas, fallbacks, providers);
    }

    Active withKeyRevoked(String keyId, Instant at) {
      var ks = keyList().stream().map(k -> k.keyId().equals(keyId) && k.active()
          ? new KeyInfo(k.keyId(), k.keyHash(), k.role(), false, k.issuedAt(), at) : k).toList();
      return new Active(tenantId, displayName, pools, createdAt, ks, quotas, fallbacks, providers);
    }

    Active withQuotas(Quotas q) {
      return new Active(tenantId, displayName, pools, createdAt, keys, q, fallbacks, providers);
    }

    Active withFallbacks(List<FallbackTarget> f) {
      return new Active(tenantId, displayName, pools, createdAt, keys, quotas, f, providers);
    }

    List<FallbackTarget> fallbackList() {
      return fallbacks == null ? List.of() : fallbacks;
    }

    TenantView view() {
      return new TenantView(true, tenantId, displayName, List.copyOf(new TreeSet<>(pools)), createdAt, keyList(), quotaSpec(), fallbackList(),
          List.copyOf(new TreeSet<>(providerSet())));
    }
  }

  /**
   * What callers see of a tenant; {@code fallbacks} in order, names and secret references only; {@code providers}
   * the platform providers its fallbacks may name.
   */
  public record TenantView(boolean exists, String tenantId, String displayName, List<String> pools, Instant createdAt,
      List<KeyInfo> keys, Quotas quotas, List<FallbackTarget> fallbacks, List<String> providers) implements CborSerializable {
    public TenantView {
      providers = providers == null ? List.of() : providers;
    }

    public TenantView(boolean exists, String tenantId, String displayName, List<String> pools, Instant createdAt, List<KeyInfo> keys,
        Quotas quotas, List<FallbackTarget> fallbacks) {
      this(exists, tenantId, displayName, pools, createdAt, keys, quotas, fallbacks, List.of());
    }

    static TenantView missing(String id) {
      return new TenantView(false, id, null, List.of(), null, List.of(), Quotas.NONE, List.of(), List.of());
    }

    public java.util.Optional<KeyInfo> key(String keyId) {
      return keys.stream().filter(k -> k.keyId().equals(keyId)).findFirst();
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
            return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid("displayName must not be blank")));
          }
          return Effect().persist(new TenantCreated(tenantId, c.displayName(), List.copyOf(c.pools()), Instant.now(), true))
              .thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
        })
        .onCommand(GrantPool.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(RegisterKey.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(MarkKeyRevoked.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(SetQuotas.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(SetFallbacks.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(GrantProvider.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(RevokeProvider.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("no tenant " + tenantId))))
        .onCommand(GetTenant.class, (s, c) -> Effect().reply(c.replyTo(), TenantView.missing(tenantId)));
    b.forStateType(Active.class)
        .onCommand(CreateTenant.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("tenant " + tenantId + " already exists"))))
        .onCommand(GrantPool.class, (s, c) -> s.pools().contains(c.poolId())
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
            : Effect().persist(new PoolGranted(c.poolId())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(GetTenant.class, (s, c) -> Effect().reply(c.replyTo(), s.view()))
        .onCommand(RegisterKey.class, (s, c) -> s.keyList().stream().anyMatch(k -> k.keyId().equals(c.keyId()))
            ? Effect().reply(c.replyTo(), StatusReply.error(Refusal.conflict("tenant " + tenantId + " already has a key with id " + c.keyId())))
            : Effect().persist(new KeyRegistered(c.keyId(), c.keyHash(), c.role(), Instant.now()))
                .thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(MarkKeyRevoked.class, (s, c) -> {
          var key = s.keyList().stream().filter(k -> k.keyId().equals(c.keyId())).findFirst();
          if (key.isEmpty()) return Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("tenant " + tenantId + " has no key " + c.keyId())));
          if (!key.get().active()) return Effect().reply(c.replyTo(), StatusReply.success(s.view()));
          return Effect().persist(new KeyMarkedRevoked(c.keyId(), Instant.now())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
        })
        .onCommand(SetQuotas.class, (s, c) -> Effect().persist(new QuotasSet(c.quotas()))
            .thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(SetFallbacks.class, (s, c) -> {
          var foreign = c.targets().stream().filter(t -> t.isPool() && !s.pools().contains(t.pool())).map(FallbackTarget::pool).toList();
          if (!foreign.isEmpty()) {
            return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid("fallback pools " + foreign + " are not pools of tenant " + tenantId)));
          }
          var granted = s.providerSet();
          var ungranted = c.targets().stream().filter(t -> !t.isPool() && !t.isLegacyUrl() && !granted.contains(t.name()))
              .map(FallbackTarget::name).distinct().toList();
          if (!ungranted.isEmpty()) {
            return Effect().reply(c.replyTo(), StatusReply.error(Refusal.invalid("providers " + ungranted + " are not granted to tenant " + tenantId
                + "; a platform-admin grants one with POST /admin/v1/tenants/" + tenantId + "/providers")));
          }
          return Effect().persist(new FallbacksSet(List.copyOf(c.targets()))).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view()));
        })
        .onCommand(GrantProvider.class, (s, c) -> s.providers() != null && s.providers().contains(c.provider())
            ? Effect().reply(c.replyTo(), StatusReply.success(s.view()))
            : Effect().persist(new ProviderGranted(c.provider())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())))
        .onCommand(RevokeProvider.class, (s, c) -> !s.providerSet().contains(c.provider())
            ? Effect().reply(c.replyTo(), StatusReply.error(Refusal.notFound("provider " + c.provider() + " is not granted to tenant " + tenantId)))
            : Effect().persist(new ProviderRevoked(c.provider())).thenReply(c.replyTo(), st -> StatusReply.success(((Active) st).view())));
    return b.build();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    var b = newEventHandlerBuilder();
    b.forStateType(Empty.class).onEvent(TenantCreated.class, (s, e) -> new Active(e.tenantId(), e.displayName(), Set.copyOf(e.pools()),
        e.createdAt(), List.of(), Quotas.NONE, List.of(), Boolean.TRUE.equals(e.providerGrants()) ? Set.of() : null));
    b.forStateType(Active.class)
        .onEvent(PoolGranted.class, (s, e) -> s.withPool(e.poolId()))
        .onEvent(KeyRegistered.class, (s, e) -> s.withKey(new KeyInfo(e.keyId(), e.keyHash(), e.role(), true, e.issuedAt(), null)))
        .onEvent(KeyMarkedRevoked.class, (s, e) -> s.withKeyRevoked(e.keyId(), e.revokedAt()))
        .onEvent(QuotasSet.class, (s, e) -> s.withQuotas(e.quotas()))
        .onEvent(FallbacksSet.class, (s, e) -> s.withFallbacks(e.targets()))
        .onEvent(ProviderGranted.class, (s, e) -> s.withProvider(e.provider(), true))
        .onEvent(ProviderRevoked.class, (s, e) -> s.withProvider(e.provider(), false));
    return b.build();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    return RetentionCriteria.snapshotEvery(100, 2);
  }
}
