package io.dalang.runtime.models;

import io.dalang.actors.model.ModelEntity;
import io.dalang.actors.model.ModelVersion;
import io.dalang.gguf.GgufFile;
import io.dalang.gguf.GgufReader;
import io.dalang.gguf.TensorInfo;
import io.dalang.models.BlobDownloader;
import io.dalang.models.BlobStore;
import io.dalang.models.HfReference;
import io.dalang.protocols.admin.AdminResponses;
import io.dalang.protocols.error.DalangException;
import io.dalang.protocols.error.ErrorCode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports into the catalog on this control node: a file or a URL becomes a blob in the store
 * (verified), its GGUF header is read, and only then the version is added to its {@link ModelEntity}.
 * A failed import leaves no version behind; a cut download resumes when the same import is started
 * again (its partial file stays in the store). Imports run on the blocking dispatcher, at most
 * {@code max-concurrent-imports} at once; the caller follows one by id.
 */
public final class ModelImports {
  private static final Logger log = LoggerFactory.getLogger(ModelImports.class);

  /** What to import. {@code from} is a path on this node, an http(s) URL or an {@code hf://} reference. */
  public record Request(String name, String from, String sha256, String version, Map<String, String> labels, String parent,
      boolean allowPrivate, String addedBy) {}

  /** Told when an import ends: the request, and its final view. */
  public interface Finished {
    void finished(Request request, AdminResponses.ModelImport view);
  }

  private final ActorSystem<?> system;
  private final BlobStore store;
  private final BlobDownloader downloader;
  private final CatalogSettings settings;
  private final String storedOn;
  private final Duration askTimeout;
  private final Executor blocking;
  private final Map<String, AdminResponses.ModelImport> imports = new ConcurrentHashMap<>();
  private final Deque<String> finishedOrder = new ArrayDeque<>();
  private final AtomicInteger running = new AtomicInteger();

  /** @param storedOn this node's cluster address: where the versions imported here are kept */
  public ModelImports(ActorSystem<?> system, BlobStore store, BlobDownloader downloader, CatalogSettings settings, String storedOn,
      Duration askTimeout) {
    this.system = system;
    this.store = store;
    this.downloader = downloader;
    this.settings = settings;
    this.storedOn = storedOn;
    this.askTimeout = askTimeout;
    this.blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
  }

  public BlobStore store() {
    return store;
  }

  public Optional<AdminResponses.ModelImport> get(String id) {
    return Optional.ofNullable(imports.get(id));
  }

  /**
   * Starts an import; its first view (status {@code queued}). A source that is plainly unusable (no
   * such file, not GGUF, a malformed URL) is refused here, before anything is copied.
   */
  public CompletionStage<AdminResponses.ModelImport> start(Request r, Finished whenDone) {
    Source source = source(r.from());
    if (running.incrementAndGet() > settings.maxConcurrentImports()) {
      running.decrementAndGet();
      throw new DalangException(ErrorCode.CAPACITY_EXHAUSTED,
          settings.maxConcurrentImports() + " model imports are running on this node; try again when one has finished");
    }
    String id = "imp-" + UUID.randomUUID();
    var first = new AdminResponses.ModelImport(id, r.name(), source.display(), "queued", 0, -1, null, null, null, Instant.now().toString(), null);
    imports.put(id, first);
    CompletableFuture<Void> checked = source.file() != null
        ? CompletableFuture.runAsync(() -> ggufOrRefuse(source.file(), "'from' " + source.file()), blocking)
        : CompletableFuture.completedFuture(null);
    return checked.whenComplete((ok, err) -> {
      if (err != null) {
        imports.remove(id);
        running.decrementAndGet();
      }
    }).thenApply(ok -> {
      CompletableFuture.runAsync(() -> run(id, r, source, whenDone), blocking);
      return first;
    });
  }

  /** A parsed source: a local file, or a URL (with what the catalog records of it: no query, no user info). */
  private record Source(Path file, URI url, String display) {}

  private static Source source(String from) {
    if (from == null || from.isBlank()) throw invalid("'from' is required: a path on the control node, an http(s) URL or hf://ORG/REPO/FILE");
    if (from.length() > 4096) throw invalid("'from' is longer than 4096 characters");
    if (HfReference.isHf(from)) {
      HfReference hf;
      try {
        hf = HfReference.parse(from);
      } catch (IllegalArgumentException e) {
        throw invalid("'from': " + e.getMessage());
      }
      return new Source(null, hf.resolve(), from);
    }
    if (from.startsWith("http://") || from.startsWith("https://")) {
      URI u;
      try {
        u = new URI(from);
      } catch (java.net.URISyntaxException e) {
        throw invalid("'from' is not a valid URL: " + e.getReason());
      }
      if (u.getHost() == null) throw invalid("'from' has no host");
      if (u.getRawUserInfo() != null) throw invalid("'from' may not carry user info; give credentials another way");
      if (u.getRawFragment() != null) throw invalid("'from' may not have a #fragment");
      return new Source(null, u, u.getScheme() + "://" + u.getRawAuthority() + u.getRawPath());
    }
    if (from.contains("://")) throw invalid("'from' must be a path, an http(s) URL or hf://ORG/REPO/FILE");
    Path p = Path.of(from).toAbsolutePath().normalize();
    if (!Files.isRegularFile(p)) throw invalid("'from' " + p + " is not a file on this control node");
    return new Source(p, null, p.toString());
  }

  private void run(String id, Request r, Source source, Finished whenDone) {
    var view = imports.get(id);
    Consumer<AdminResponses.ModelImport> set = v -> imports.put(id, v);
    try {
      set.accept(with(view, "copying", 0, -1, null, null, null));
      BlobStore.Stored blob;
      if (source.file() != null) {
        long size = Files.size(source.file());
        if (size > settings.maxBytes()) throw new IOException("the file has " + size + " bytes, more than dalang.models.max-bytes (" + settings.maxBytes() + ")");
        set.accept(with(view, "copying", 0, size, null, null, null));
        blob = store.importFile(source.file(), blank(r.sha256()) ? null : r.sha256().toLowerCase(java.util.Locale.ROOT));
      } else {
        var req = new BlobDownloader.Request(source.url(), blank(r.sha256()) ? null : r.sha256().toLowerCase(java.util.Locale.ROOT), -1,
            null, r.allowPrivate(), null, settings.maxBytes());
        blob = downloader.fetch(req, (done, total) -> set.accept(with(view, "copying", done, total, null, null, null)));
      }
      set.accept(with(view, "verifying", blob.size(), blob.size(), null, blob.sha256(), null));
      GgufFile gguf;
      try {
        gguf = GgufReader.read(blob.path());
      } catch (IOException | RuntimeException e) {
        store.delete(blob.sha256()); // not a model: no version of any model can be this blob
        throw new IOException("the source is not a readable GGUF model: " + e.getMessage(), e);
      }
      long params = gguf.tensors().stream().mapToLong(TensorInfo::elements).sum();
      var version = new ModelVersion(blank(r.version()) ? null : r.version(), 0, blob.sha256(), blob.size(), "gguf", gguf.architecture(),
          gguf.contextLength(), gguf.fileTypeName(), params, gguf.tensorBytes(), source.display(), blank(r.parent()) ? null : r.parent(),
          r.addedBy(), Instant.now(), r.labels(), storedOn);
      var added = ClusterSharding.get(system).entityRefFor(ModelEntity.ENTITY_KEY, r.name())
          .<ModelEntity.ModelView>askWithStatus(reply -> new ModelEntity.AddVersion(version, reply), askTimeout)
          .toCompletableFuture().get(askTimeout.toMillis() + 1000, java.util.concurrent.TimeUnit.MILLISECONDS);
      String v = added.versions().stream().filter(x -> x.sha256().equals(blob.sha256())).map(ModelVersion::version).findFirst().orElse("?");
      log.info("model {}@{} added: {} bytes, sha256 {}…, {} {} from {}", r.name(), v, blob.size(), blob.sha256().substring(0, 12),
          gguf.architecture(), gguf.fileTypeName(), source.display());
      finish(id, with(view, "done", blob.size(), blob.size(), v, blob.sha256(), null), r, whenDone);
    } catch (Exception e) {
      Throwable c = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
      String why = c.getMessage() == null ? c.getClass().getSimpleName() : io.dalang.protocols.error.Refusal.parse(c.getMessage(), ErrorCode.INTERNAL).message();
      log.warn("model import {} of {} from {} failed: {}", id, r.name(), source.display(), why);
      var last = imports.get(id);
      finish(id, with(last, "failed", last.bytesDone(), last.bytesTotal(), null, last.sha256(), why), r, whenDone);
    }
  }

  private void finish(String id, AdminResponses.ModelImport view, Request r, Finished whenDone) {
    imports.put(id, view);
    running.decrementAndGet();
    synchronized (finishedOrder) {
      finishedOrder.addLast(id);
      while (finishedOrder.size() > settings.keepImports()) imports.remove(finishedOrder.removeFirst());
    }
    whenDone.finished(r, view);
  }

  private static AdminResponses.ModelImport with(AdminResponses.ModelImport v, String status, long done, long total, String version,
      String sha256, String error) {
    boolean over = status.equals("done") || status.equals("failed");
    return new AdminResponses.ModelImport(v.id(), v.name(), v.source(), status, done, total, version, sha256, error, v.startedAt(),
        over ? Instant.now().toString() : null);
  }

  private static void ggufOrRefuse(Path file, String what) {
    try {
      GgufReader.read(file);
    } catch (IOException | RuntimeException e) {
      throw invalid(what + " is not a readable GGUF model: " + e.getMessage());
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static DalangException invalid(String message) {
    return new DalangException(ErrorCode.INVALID_REQUEST, message);
  }
}
