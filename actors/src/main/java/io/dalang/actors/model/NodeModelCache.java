package io.dalang.actors.model;

import io.dalang.actors.engine.ModelFiles;
import io.dalang.actors.slot.SlotSpec;
import io.dalang.engine.Digests;
import io.dalang.models.BlobDownloader;
import io.dalang.models.BlobStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's model files: the blobs of catalog models in this node's own store
 * ({@code <data-dir>/model-cache/sha256/<digest>}), pulled from the control node that holds them when a slot
 * needs one the node lacks. No path is shared between nodes.
 *
 * <ul>
 *   <li>A catalog version whose path is in this node's own catalog store (a control node that is also a
 *       GPU node), or a pool of the older {@code model_path} form whose file exists here, is used as it is.
 *   <li>Otherwise the blob is looked up in the store; a stored blob whose digest no longer matches is
 *       deleted and pulled again.
 *   <li>A pull asks the cluster's {@link BlobServer}s where the blob is, frees room under
 *       {@code max-bytes} by evicting the least recently used blobs no engine holds, and downloads with
 *       resume; the digest is checked before the slot may load it. Concurrent pulls of one blob share one
 *       download.
 * </ul>
 */
public final class NodeModelCache implements ModelFiles {
  private static final Logger log = LoggerFactory.getLogger(NodeModelCache.class);

  /** The slot id of a prefetch's spec: not a slot, so not a cold start. */
  public static final String PREFETCH = "prefetch";

  /** A pull under way: bytes so far and expected. */
  public record Pull(String sha256, long bytesDone, long bytesTotal) {}

  private final ActorSystem<?> system;
  private final String nodeId;
  private final BlobStore store;
  private final Path localCatalog;
  private final BlobDownloader downloader;
  private final long maxBytes;
  private final Duration locateTimeout;
  private final MeterRegistry metrics;
  private final Map<String, CompletableFuture<Path>> inflight = new ConcurrentHashMap<>();
  private final Map<String, Pull> pulls = new ConcurrentHashMap<>();
  /** How many engines hold each blob: those are never evicted. */
  private final Map<String, Integer> held = new HashMap<>();

  /**
   * @param maxBytes the store's quota ({@code dalang.node.model-cache.max-bytes}; 0 for no limit)
   * @param localCatalog this node's catalog store ({@code <data-dir>/models}) when it is a control node, else null
   */
  public NodeModelCache(ActorSystem<?> system, String nodeId, BlobStore store, BlobDownloader downloader, long maxBytes,
      Duration locateTimeout, MeterRegistry metrics, Path localCatalog) {
    this.localCatalog = localCatalog == null ? null : localCatalog.toAbsolutePath().normalize();
    this.system = system;
    this.nodeId = nodeId;
    this.store = store;
    this.downloader = downloader;
    this.maxBytes = maxBytes;
    this.locateTimeout = locateTimeout;
    this.metrics = metrics;
  }

  public BlobStore store() {
    return store;
  }

  /** The pulls under way now, for the fleet view. */
  public List<Pull> pulls() {
    return List.copyOf(pulls.values());
  }

  @Override
  public Path acquire(SlotSpec spec) throws IOException {
    String digest = spec.modelDigest() == null ? "" : spec.modelDigest();
    Path given = Path.of(spec.modelPath()).toAbsolutePath().normalize();
    // A catalog version is read from this node's own catalog store (a control node that is also a GPU
    // node) or its cache, never from a path that merely exists here: on one machine with several nodes
    // that would be another node's store. A model_path pool names a path every node is meant to have.
    boolean ownFile = spec.catalogRef() == null || (localCatalog != null && given.startsWith(localCatalog));
    if (ownFile && Files.isRegularFile(given) && (digest.isBlank() || digest.equals(Digests.sha256Cached(given)))) {
      hold(digest);
      return given;
    }
    if (!BlobStore.isDigest(digest)) {
      throw new IOException("model file " + given + " is missing and the pool names no sha256 to fetch it by");
    }
    boolean cold = !store.contains(digest);
    // Held before it is looked up or pulled: a pull for another slot must not evict it meanwhile.
    hold(digest);
    Path local;
    try {
      local = local(digest);
    } catch (IOException | RuntimeException e) {
      release(spec);
      throw e;
    }
    // A slot that waited on a pull started cold; a prefetch is what keeps it from doing so.
    if (cold && !PREFETCH.equals(spec.slotId())) metrics.counter("dalang_model_cold_starts_total", "pool", spec.poolId()).increment();
    return local;
  }

  @Override
  public void release(SlotSpec spec) {
    String digest = spec.modelDigest() == null ? "" : spec.modelDigest();
    synchronized (held) {
      held.computeIfPresent(digest, (k, n) -> n <= 1 ? null : n - 1);
    }
  }

  private void hold(String digest) {
    if (digest.isBlank()) return;
    synchronized (held) {
      held.merge(digest, 1, Integer::sum);
    }
    if (BlobStore.isDigest(digest)) store.touch(digest);
  }

  /** Whether {@code digest} is in this node's cache or being pulled into it now. */
  public boolean presentOrPulling(String digest) {
    return inflight.containsKey(digest) || store.contains(digest);
  }

  private Set<String> heldDigests() {
    synchronized (held) {
      return new HashSet<>(held.keySet());
    }
  }

  /** The stored blob, checked; pulled first when absent or damaged. One pull a digest at a time. */
  private Path local(String digest) throws IOException {
    var stored = store.find(digest);
    if (stored.isPresent()) {
      if (digest.equals(Digests.sha256Cached(stored.get()))) return stored.get();
      log.warn("model blob {}… on this node is damaged (its sha256 differs); deleting it and pulling it again", digest.substring(0, 12));
      metrics.counter("dalang_model_blobs_damaged_total").increment();
      store.delete(digest);
    }
    var mine = new CompletableFuture<Path>();
    var running = inflight.putIfAbsent(digest, mine);
    if (running != null) return await(running, digest);
    try {
      Path p = pull(digest);
      mine.complete(p);
      return p;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      inflight.remove(digest, mine);
      pulls.remove(digest);
    }
  }

  private static Path await(CompletableFuture<Path> pull, String digest) throws IOException {
    try {
      return pull.get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException("pulling blob " + digest.substring(0, 12) + "… failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for blob " + digest.substring(0, 12) + "…");
    }
  }

  private Path pull(String digest) throws IOException {
    String shortDigest = digest.substring(0, 12) + "…";
    BlobServer.Location where = locate(digest);
    if (where == null) throw new IOException("no control node of the cluster holds blob " + shortDigest);
    if (maxBytes > 0) {
      var evicted = store.evictFor(where.size(), maxBytes, heldDigests());
      for (var e : evicted) {
        log.info("model cache: evicted blob {}… ({} bytes, unused since {}) to make room", e.sha256().substring(0, 12), e.size(), e.lastUsed());
        metrics.counter("dalang_model_cache_evictions_total").increment();
      }
    }
    log.info("pulling model blob {} ({} bytes) from {}", shortDigest, where.size(), URI.create(where.url()).getAuthority());
    long t0 = System.nanoTime();
    pulls.put(digest, new Pull(digest, 0, where.size()));
    // A cluster member's address: private ranges are expected here; metadata addresses stay refused.
    var request = new BlobDownloader.Request(URI.create(where.url()), digest, where.size(), where.token(), true, where.certSha256(), where.size());
    BlobStore.Stored done;
    try {
      done = downloader.fetch(request, (bytes, total) -> pulls.put(digest, new Pull(digest, bytes, total)));
    } catch (IOException e) {
      metrics.counter("dalang_model_pulls_total", "outcome", "failed").increment();
      throw e;
    }
    metrics.counter("dalang_model_pulls_total", "outcome", "ok").increment();
    metrics.counter("dalang_model_pull_bytes_total").increment(done.size());
    log.info("pulled model blob {} ({} bytes) in {} ms; sha256 verified", shortDigest, done.size(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
    return done.path();
  }

  /** The first blob server that holds {@code digest}; null if none does. */
  private BlobServer.Location locate(String digest) throws IOException {
    try {
      Receptionist.Listing listing = AskPattern.<Receptionist.Command, Receptionist.Listing>ask(system.receptionist(),
          r -> Receptionist.find(BlobServer.KEY, r), locateTimeout, system.scheduler()).toCompletableFuture()
          .get(locateTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
      List<CompletableFuture<BlobServer.Location>> asks = new ArrayList<>();
      for (var server : listing.getServiceInstances(BlobServer.KEY)) {
        asks.add(AskPattern.<BlobServer.Command, BlobServer.Location>ask(server, r -> new BlobServer.Locate(digest, nodeId, r),
            locateTimeout, system.scheduler()).toCompletableFuture().exceptionally(e -> null));
      }
      for (var a : asks) {
        var l = a.get(locateTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        if (l != null && l.found()) return l;
      }
      return null;
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("asking the cluster where blob " + digest.substring(0, 12) + "… is failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    }
  }
}
