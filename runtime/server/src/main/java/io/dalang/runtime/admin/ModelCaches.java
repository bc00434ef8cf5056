package io.dalang.runtime.admin;

import io.dalang.actors.model.ModelCacheAgent;
import io.dalang.protocols.admin.AdminResponses;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;

/** The GPU nodes' model caches ({@link ModelCacheAgent}), found through the receptionist. */
final class ModelCaches {
  private ModelCaches() {}

  static CompletionStage<List<ActorRef<ModelCacheAgent.Command>>> agents(ActorSystem<?> system, Duration timeout) {
    return AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(), r -> Receptionist.find(ModelCacheAgent.KEY, r),
        timeout, system.scheduler()).thenApply(l -> new ArrayList<>(l.getServiceInstances(ModelCacheAgent.KEY)));
  }

  static AdminResponses.ModelCache body(ModelCacheAgent.CacheView v) {
    return new AdminResponses.ModelCache(v.nodeId(), v.usedBytes(), v.maxBytes(), v.diskFreeBytes(),
        v.blobs().stream().map(b -> new AdminResponses.CachedBlob(b.sha256(), b.size(), b.lastUsed())).toList(),
        v.pulls().stream().map(p -> new AdminResponses.BlobPull(p.sha256(), p.bytesDone(), p.bytesTotal())).toList());
  }

  /**
   * Asks the caches of {@code nodes} (every node's when null) to pull {@code sha256} (a node that has the
   * catalog's own file at {@code catalogPath}, a control node that is also a GPU node, uses it); their answers. Each
   * agent is asked who it is first: the receptionist knows agents, not their node ids.
   */
  static CompletionStage<List<ModelCacheAgent.PrefetchAccepted>> prefetch(ActorSystem<?> system, Duration timeout, String sha256,
      String catalogPath, String catalogRef, java.util.Set<String> nodes) {
    return agents(system, timeout).thenCompose(agents -> {
      var answers = agents.stream().map(a -> AskPattern.<ModelCacheAgent.Command, ModelCacheAgent.CacheView>ask(a, ModelCacheAgent.GetCache::new,
              timeout, system.scheduler()).toCompletableFuture()
          .thenCompose(c -> nodes != null && !nodes.contains(c.nodeId())
              ? CompletableFuture.<ModelCacheAgent.PrefetchAccepted>completedFuture(null)
              : AskPattern.<ModelCacheAgent.Command, ModelCacheAgent.PrefetchAccepted>ask(a, r -> new ModelCacheAgent.Prefetch(sha256, catalogPath, catalogRef, r),
                  timeout, system.scheduler()))
          .exceptionally(e -> null)).toList();
      return CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new))
          .thenApply(d -> answers.stream().map(CompletableFuture::join).filter(x -> x != null).toList());
    });
  }
}
