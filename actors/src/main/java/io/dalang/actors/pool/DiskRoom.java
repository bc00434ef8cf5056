package io.dalang.actors.pool;

import io.dalang.actors.model.ModelCacheAgent;
import io.dalang.actors.slot.SlotSpec;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whether a GPU node's model cache can take the blob a replica placed there must pull: the disk side of
 * placement, next to device memory ({@code SlotFeasibility}). A node that holds the blob already always
 * can. Otherwise the blob must fit both
 * <ul>
 *   <li>under the cache's quota ({@code max-bytes}, 0 for none), beside the blobs the node's engines hold
 *       (those of the slots assigned to it, and blobs being pulled, which cannot be evicted), and
 *   <li>on the disk: the file system's free space plus what eviction can free (cached blobs no slot there
 *       holds), less what pulls under way will still write.
 * </ul>
 * Replicas placed in the same pass on the same node count against its room too. A node whose cache did not
 * answer is not held back (its pull fails then, with the cache's own error).
 *
 * @param caches each node's cache as it answered ({@link ModelCacheAgent.GetCache}), by node id
 */
public record DiskRoom(Map<String, ModelCacheAgent.CacheView> caches) {
  public static final DiskRoom UNKNOWN = new DiskRoom(Map.of());

  public DiskRoom {
    caches = Map.copyOf(caches);
  }

  /** One pass's view: the room each node has left as replicas are placed. */
  Pass pass(Map<String, ReplicaPlan.Node> nodes) {
    return new Pass(nodes);
  }

  final class Pass {
    private final Map<String, ReplicaPlan.Node> nodes;
    private final Map<String, Long> taken = new HashMap<>();
    private final Map<String, Set<String>> coming = new HashMap<>();

    private Pass(Map<String, ReplicaPlan.Node> nodes) {
      this.nodes = nodes;
    }

    /** Whether node {@code nodeId} can take blob {@code digest} of {@code bytes}. */
    boolean fits(String nodeId, String digest, long bytes) {
      return why(nodeId, digest, bytes) == null;
    }

    /** Why node {@code nodeId} cannot take the blob, or null when it can. */
    String why(String nodeId, String digest, long bytes) {
      var cache = caches.get(nodeId);
      if (cache == null || digest == null || bytes <= 0) return null;
      if (holds(cache, digest) || coming.getOrDefault(nodeId, Set.of()).contains(digest)) return null;
      long room = room(nodeId, cache) - taken.getOrDefault(nodeId, 0L);
      if (room >= bytes) return null;
      return "node " + nodeId + "'s model cache has room for " + mib(Math.max(0, room)) + " MiB, the blob needs " + mib(bytes) + " MiB ("
          + (cache.maxBytes() > 0 ? "quota " + mib(cache.maxBytes()) + " MiB, " : "") + (cache.diskFreeBytes() >= 0
              ? mib(cache.diskFreeBytes()) + " MiB free on its disk" : "its disk's free space unknown") + ")";
    }

    /** Counts blob {@code digest} against node {@code nodeId}'s room (a replica placed there pulls it). */
    void take(String nodeId, String digest, long bytes) {
      var cache = caches.get(nodeId);
      if (cache == null || digest == null || bytes <= 0 || holds(cache, digest)) return;
      if (coming.computeIfAbsent(nodeId, k -> new HashSet<>()).add(digest)) taken.merge(nodeId, bytes, Long::sum);
    }

    private long room(String nodeId, ModelCacheAgent.CacheView cache) {
      var node = nodes.get(nodeId);
      Set<String> pinned = new HashSet<>();
      if (node != null) for (SlotSpec s : node.executor().slots()) if (s.catalogRef() != null && s.modelDigest() != null) pinned.add(s.modelDigest());
      long cached = 0;
      long held = 0;
      for (var b : cache.blobs()) {
        cached += b.size();
        if (pinned.contains(b.sha256())) held += b.size();
      }
      long pulling = 0;
      long toWrite = 0;
      for (var p : cache.pulls()) {
        pulling += Math.max(0, p.bytesTotal());
        toWrite += Math.max(0, p.bytesTotal() - p.bytesDone());
      }
      long quotaRoom = cache.maxBytes() > 0 ? cache.maxBytes() - held - pulling : Long.MAX_VALUE;
      long diskRoom = cache.diskFreeBytes() >= 0 ? cache.diskFreeBytes() + (cached - held) - toWrite : Long.MAX_VALUE;
      return Math.min(quotaRoom, diskRoom);
    }
  }

  private static boolean holds(ModelCacheAgent.CacheView cache, String digest) {
    for (var b : cache.blobs()) if (b.sha256().equals(digest)) return true;
    return false;
  }

  private static long mib(long bytes) {
    return (bytes + (1 << 20) - 1) >> 20;
  }

  /** The caches of {@code views}, by node. */
  public static DiskRoom of(List<ModelCacheAgent.CacheView> views) {
    var m = new HashMap<String, ModelCacheAgent.CacheView>();
    for (var v : views) if (v != null) m.put(v.nodeId(), v);
    return new DiskRoom(m);
  }
}
