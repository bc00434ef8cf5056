package io.dalang.runtime.grpc;

import io.dalang.runtime.http.ClientAddress;
import io.dalang.actors.executor.ExecutorEntity;
import io.dalang.actors.placement.PlacementActor;
import io.dalang.actors.pool.PoolEntity;
import io.dalang.actors.tenant.TenantEntity;
import io.dalang.grpc.v1.AdminPowerApi;
import io.dalang.grpc.v1.ListNodesRequest;
import io.dalang.grpc.v1.ListNodesResponse;
import io.dalang.grpc.v1.ListPoolsRequest;
import io.dalang.grpc.v1.ListPoolsResponse;
import io.dalang.grpc.v1.ListSlotsRequest;
import io.dalang.grpc.v1.ListSlotsResponse;
import io.dalang.grpc.v1.ListTenantsRequest;
import io.dalang.grpc.v1.ListTenantsResponse;
import io.dalang.grpc.v1.Node;
import io.dalang.grpc.v1.Pool;
import io.dalang.grpc.v1.Slot;
import io.dalang.grpc.v1.Tenant;
import io.dalang.protocols.auth.Role;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.runtime.auth.Authenticator;
import io.dalang.runtime.auth.Principal;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.grpc.javadsl.Metadata;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * {@code dalang.v1.Admin}: read-only views of the cluster. Nodes, pools and slots need a platform key
 * (platform-admin or operator); tenants: platform-admin sees all, a tenant-admin its own. The entity
 * ids come from the journal ({@code currentPersistenceIds}), the live state from the entities, the
 * fleet and cluster membership.
 */
public final class GrpcAdminService implements AdminPowerApi {
  private static final int PARALLEL_ASKS = 8;

  private final ActorSystem<?> system;
  private final Authenticator auth;
  private final ActorRef<PlacementActor.Command> placement;
  private final ClusterSharding sharding;
  private final Duration timeout;

  public GrpcAdminService(ActorSystem<?> system, Authenticator auth, ActorRef<PlacementActor.Command> placement, Duration timeout) {
    this.system = system;
    this.auth = auth;
    this.placement = placement;
    this.sharding = ClusterSharding.get(system);
    this.timeout = timeout;
  }

  @Override
  public CompletionStage<ListNodesResponse> listNodes(ListNodesRequest in, Metadata md) {
    return platform(md).thenCompose(p -> ids("Executor").thenCompose(ids -> all(ids, id ->
        sharding.entityRefFor(ExecutorEntity.ENTITY_KEY, id).<ExecutorEntity.ExecutorView>ask(ExecutorEntity.GetExecutor::new, timeout))))
        .thenApply(executors -> {
          var state = Cluster.get(system).state();
          Map<String, Member> byAddress = new HashMap<>();
          for (Member m : state.getMembers()) byAddress.put(m.address().toString(), m);
          var unreachable = state.getUnreachable();
          var out = ListNodesResponse.newBuilder();
          for (var e : executors) {
            if (!e.registered()) continue;
            Member m = byAddress.get(e.address());
            var n = Node.newBuilder().setNodeId(e.nodeId()).setAddress(e.address() == null ? "" : e.address())
                .setStatus(m == null ? "Absent" : m.status().toString()).setReachable(m != null && !unreachable.contains(m))
                .setHealthy(e.healthy());
            if (m != null) n.addAllRoles(m.getRoles());
            e.slots().forEach(s -> n.addSlotIds(s.slotId()));
            e.devices().forEach(d -> n.addDevices(d.id() + " " + d.name() + " (" + d.memoryTotalMib() + " MiB)"));
            out.addNodes(n);
          }
          return out.build();
        }).exceptionally(GrpcAdminService::rethrow);
  }

  @Override
  public CompletionStage<ListPoolsResponse> listPools(ListPoolsRequest in, Metadata md) {
    return platform(md).thenCompose(p -> fleet().thenCompose(fleet -> ids("Pool").thenCompose(ids -> all(ids, id ->
        sharding.entityRefFor(PoolEntity.ENTITY_KEY, id).<PoolEntity.PoolView>ask(PoolEntity.GetPool::new, timeout))).thenApply(pools -> {
          var out = ListPoolsResponse.newBuilder();
          for (var v : pools) {
            if (!v.exists()) continue;
            int ready = (int) fleet.slots().stream().filter(s -> s.poolId().equals(v.poolId()) && s.ready()).count();
            out.addPools(Pool.newBuilder().setPoolId(v.poolId()).setModelId(v.spec().modelId()).setEngine(v.spec().engine())
                .setReplicas(v.spec().replicas()).setReadySlots(ready));
          }
          return out.build();
        }))).exceptionally(GrpcAdminService::rethrow);
  }

  @Override
  public CompletionStage<ListSlotsResponse> listSlots(ListSlotsRequest in, Metadata md) {
    return platform(md).thenCompose(p -> fleet()).thenApply(fleet -> {
      var out = ListSlotsResponse.newBuilder();
      for (var s : fleet.slots()) {
        if (!in.getPool().isEmpty() && !in.getPool().equals(s.poolId())) continue;
        out.addSlots(Slot.newBuilder().setSlotId(s.slotId()).setPoolId(s.poolId()).setModelId(s.modelId()).setNodeId(s.nodeId())
            .setDeviceId(s.deviceId()).setState(s.state()).setEngineKind(nz(s.engineKind())).setEngineVersion(nz(s.engineVersion()))
            .setSlotsTotal(s.slotsTotal()).setSlotsFree(s.slotsFree()));
      }
      return out.build();
    }).exceptionally(GrpcAdminService::rethrow);
  }

  @Override
  public CompletionStage<ListTenantsResponse> listTenants(ListTenantsRequest in, Metadata md) {
    return auth.authenticate(md.getText("authorization"), ClientAddress.of(md)).thenCompose(p -> {
      CompletionStage<List<String>> ids;
      if (p.role() == Role.PLATFORM_ADMIN) ids = ids("Tenant");
      else if (p.role() == Role.TENANT_ADMIN) ids = java.util.concurrent.CompletableFuture.completedFuture(List.of(p.tenantId()));
      else throw new DalangException(ErrorCode.PERMISSION_DENIED, "listing tenants needs a platform-admin or tenant-admin key");
      return ids.thenCompose(list -> all(list, id ->
          sharding.entityRefFor(TenantEntity.ENTITY_KEY, id).<TenantEntity.TenantView>ask(TenantEntity.GetTenant::new, timeout)));
    }).thenApply(tenants -> {
      var out = ListTenantsResponse.newBuilder();
      for (var t : tenants) {
        if (!t.exists() || t.tenantId().equals(Role.PLATFORM_TENANT)) continue;
        out.addTenants(Tenant.newBuilder().setTenantId(t.tenantId()).setDisplayName(nz(t.displayName())).addAllPools(t.pools())
            .setActiveKeys((int) t.keys().stream().filter(TenantEntity.KeyInfo::active).count()));
      }
      return out.build();
    }).exceptionally(GrpcAdminService::rethrow);
  }

  private CompletionStage<Principal> platform(Metadata md) {
    return auth.authenticate(md.getText("authorization"), ClientAddress.of(md)).thenApply(p -> {
      if (p.role() != Role.PLATFORM_ADMIN && p.role() != Role.OPERATOR) {
        throw new DalangException(ErrorCode.PERMISSION_DENIED, "this needs a platform-admin or operator key");
      }
      return p;
    });
  }

  private CompletionStage<PlacementActor.Fleet> fleet() {
    return AskPattern.ask(placement, PlacementActor.GetFleet::new, timeout, system.scheduler());
  }

  /** Entity ids of one type, from the journal's persistence ids ({@code Type|id}). */
  private CompletionStage<List<String>> ids(String type) {
    var journal = PersistenceQuery.get(system).getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    String prefix = type + "|";
    return journal.currentPersistenceIds().filter(id -> id.startsWith(prefix)).map(id -> id.substring(prefix.length()))
        .runWith(Sink.seq(), system);
  }

  private <T> CompletionStage<List<T>> all(List<String> ids, Function<String, CompletionStage<T>> ask) {
    return org.apache.pekko.stream.javadsl.Source.from(ids).mapAsync(PARALLEL_ASKS, ask::apply).runWith(Sink.seq(), system);
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }

  private static <T> T rethrow(Throwable t) {
    throw GrpcErrors.of(t);
  }
}
