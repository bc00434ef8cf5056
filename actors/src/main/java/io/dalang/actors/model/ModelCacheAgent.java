package io.dalang.actors.model;

import io.dalang.actors.slot.SlotSpec;
import io.dalang.models.BlobStore;
import io.dalang.protocols.CborSerializable;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * A GPU node's model cache as the cluster sees it ({@link #KEY}, one per node): what it holds and
 * pulls now (for {@code GET /admin/v1/fleet}), and prefetches (cache warming: a blob pulled before a
 * replica needs it, so the replica's start is not a cold one).
 */
public final class ModelCacheAgent {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ModelCacheAgent.class);
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "dalang-model-caches");
  /** Prefetches pulling at once on one node. */
  static final int MAX_PREFETCHES = 2;

  private ModelCacheAgent() {}

  public sealed interface Command extends CborSerializable {}

  public record GetCache(ActorRef<CacheView> replyTo) implements Command {}

  /**
   * Pull {@code sha256} into this node's cache unless it is there; {@code modelPath} is the blob's path on
   * the control node (used as it is where this node has it). Answered at once with {@code accepted};
   * the pull shows in {@link CacheView#pulls} while it runs.
   */
  public record Prefetch(String sha256, String modelPath, String catalogRef, ActorRef<PrefetchAccepted> replyTo) implements Command {}

  public record PrefetchAccepted(String nodeId, boolean accepted, String note) implements CborSerializable {}

  public record Blob(String sha256, long size, String lastUsed) implements CborSerializable {}

  /**
   * @param maxBytes the quota; 0 for none
   * @param diskFreeBytes what the file system under the cache has free for it; -1 when unknown
   */
  public record CacheView(String nodeId, long usedBytes, long maxBytes, List<Blob> blobs, List<NodeModelCache.Pull> pulls, long diskFreeBytes)
      implements CborSerializable {}

  /** Every node's cache as it answers within {@code timeout}, by node id; a node that does not answer in time is left out. */
  public static java.util.concurrent.CompletionStage<List<CacheView>> all(org.apache.pekko.actor.typed.ActorSystem<?> system,
      java.time.Duration timeout) {
    return org.apache.pekko.actor.typed.javadsl.AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
            r -> Receptionist.find(KEY, r), timeout, system.scheduler())
        .thenCompose(listing -> {
          var views = listing.getServiceInstances(KEY).stream()
              .map(a -> org.apache.pekko.actor.typed.javadsl.AskPattern.<Command, CacheView>ask(a, GetCache::new, timeout, system.scheduler())
                  .toCompletableFuture().exceptionally(e -> null))
              .toList();
          return CompletableFuture.allOf(views.toArray(CompletableFuture[]::new)).thenApply(d -> views.stream().map(CompletableFuture::join)
              .filter(v -> v != null).sorted(java.util.Comparator.comparing(CacheView::nodeId)).toList());
        });
  }

  public static Behavior<Command> create(String nodeId, NodeModelCache cache, long maxBytes) {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      // Each prefetch holds a thread of the blocking dispatcher for its pull: a few at a time, one per blob.
      var prefetching = new java.util.concurrent.atomic.AtomicInteger();
      var blocking = ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
      return Behaviors.receive(Command.class)
          .onMessage(GetCache.class, m -> {
            // Listing the store touches the disk: on the blocking dispatcher.
            CompletableFuture.runAsync(() -> m.replyTo().tell(view(nodeId, cache, maxBytes)), blocking);
            return Behaviors.same();
          })
          .onMessage(Prefetch.class, m -> {
            if (!BlobStore.isDigest(m.sha256())) {
              m.replyTo().tell(new PrefetchAccepted(nodeId, false, "not a sha256"));
              return Behaviors.same();
            }
            if (cache.presentOrPulling(m.sha256())) {
              m.replyTo().tell(new PrefetchAccepted(nodeId, true, "present or being pulled already"));
              return Behaviors.same();
            }
            if (prefetching.get() >= MAX_PREFETCHES) {
              m.replyTo().tell(new PrefetchAccepted(nodeId, false, MAX_PREFETCHES + " prefetches are running on this node; ask again later"));
              return Behaviors.same();
            }
            prefetching.incrementAndGet();
            var spec = new SlotSpec(NodeModelCache.PREFETCH, NodeModelCache.PREFETCH, NodeModelCache.PREFETCH, m.modelPath() == null ? "" : m.modelPath(), m.sha256(), "", nodeId, "",
                0, 0, 0, 0, null, m.catalogRef());
            CompletableFuture.runAsync(() -> {
              try {
                cache.acquire(spec);
                cache.release(spec); // warmed, not held: an unused prefetched blob may be evicted like any other
                log.info("prefetched model blob {}…", m.sha256().substring(0, 12));
              } catch (java.io.IOException | RuntimeException e) {
                log.warn("prefetch of model blob {}… failed: {}", m.sha256().substring(0, 12), e.getMessage());
              } finally {
                prefetching.decrementAndGet();
              }
            }, blocking);
            m.replyTo().tell(new PrefetchAccepted(nodeId, true, "pulling unless present"));
            return Behaviors.same();
          })
          .build();
    });
  }

  private static CacheView view(String nodeId, NodeModelCache cache, long maxBytes) {
    BlobStore store = cache.store();
    long free;
    try {
      free = java.nio.file.Files.getFileStore(store.root()).getUsableSpace();
    } catch (java.io.IOException | RuntimeException e) {
      free = -1;
    }
    try {
      var blobs = store.list().stream().map(b -> new Blob(b.sha256(), b.size(), b.lastUsed().toString())).toList();
      return new CacheView(nodeId, blobs.stream().mapToLong(Blob::size).sum(), maxBytes, blobs, cache.pulls(), free);
    } catch (java.io.IOException e) {
      return new CacheView(nodeId, -1, maxBytes, List.of(), cache.pulls(), free);
    }
  }
}
