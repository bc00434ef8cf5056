package io.dalang.runtime.http;

import io.dalang.protocols.error.DalangError;
import io.dalang.protocols.error.ErrorCode;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.util.ByteString;

/**
 * Tells a request whether its client connection is still there. Pekko HTTP's routing layer does not:
 * a client that hangs up while a request waits for its response (a whole, non-streaming completion,
 * or a stream that has not sent its first event because the run is still queued) goes unnoticed, and
 * the generation runs to its end for nobody.
 *
 * <p>{@link #wrap} puts a stage in front of the route on every connection that watches the stream of
 * the connection's requests: it ends when the client closes the connection (or it breaks), and then
 * every callback registered on the connection runs once. Each request carries its connection as the
 * attribute {@link #CONNECTION}. A callback is registered for as long as it matters and removed after,
 * so a keep-alive connection that carries many requests holds only those in flight.
 *
 * <p>The same stage holds every connection to the {@link EdgeLimits}: Pekko HTTP's idle timeout restarts
 * with every byte, so a client that sends its headers a byte at a time (Slowloris) would hold its
 * connection for ever; here the headers must be complete within a deadline, and one address, and all
 * of them together, may hold only so many connections.
 *
 * <p>The route runs on {@code routes}, not on the stream's own dispatcher: that one has a single thread on
 * a small node (config/dispatchers.conf), and a flood of requests routed there one by one (authentication,
 * JSON, validation) kept the next connections' headers from being read, until the header timeout cut them
 * unanswered (issue 19). The stream's thread now only reads, counts and refuses connections.
 */
public final class ConnectionWatch {
  /** The connection a request came on. */
  public static final AttributeKey<Connection> CONNECTION = AttributeKey.create("dalang-connection", Connection.class);

  private ConnectionWatch() {}

  /**
   * {@code handler} with every connection watched and held to {@code limits}: bind the result with
   * {@code bindFlow}. A connection whose next request's headers are not complete in time (the header or
   * keep-alive timeout; never while a response is in flight) is closed; the first request of a connection
   * over its address's cap is answered {@code 429} with {@code Connection: close} without reaching the
   * handler; so is one over the node's cap. The handler runs on {@code routes}.
   */
  public static Flow<HttpRequest, HttpResponse, NotUsed> wrap(
      org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler, EdgeLimits limits, Executor routes) {
    return Flow.<HttpRequest, HttpResponse, NotUsed>fromMaterializer((mat, attributes) -> {
      var connection = new Connection(limits);
      return Flow.<HttpRequest>create()
          .viaMat(KillSwitches.single(), Keep.right())
          .mapMaterializedValue(cut -> {
            connection.startClock(cut, mat);
            return NotUsed.getInstance();
          })
          .watchTermination((m, done) -> {
            done.whenComplete((d, err) -> connection.close());
            return m;
          })
          .mapAsync(1, r -> {
            EdgeLimits.Admission admission = connection.received(r);
            if (admission == EdgeLimits.Admission.OPEN) {
              // Probes are never shed: a busy node is alive, and its orchestrator must not restart it for being busy.
              if (probe(r)) return route(handler, r.addAttribute(CONNECTION, connection), routes, null);
              if (limits.enterRouting()) return route(handler, r.addAttribute(CONNECTION, connection), routes, limits);
              // The node is behind: refused before any routing work, the connection kept.
              return r.discardEntityBytes(mat).completionStage().thenApply(done -> busy(limits));
            }
            // The body is read (it is capped) before the answer: a close with unread bytes would be a reset.
            return r.discardEntityBytes(mat).completionStage().thenApply(done -> tooManyConnections(limits, admission));
          })
          .map(connection::responding);
    }).mapMaterializedValue(m -> NotUsed.getInstance());
  }

  private static CompletionStage<HttpResponse> route(
      org.apache.pekko.japi.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler, HttpRequest request, Executor routes,
      EdgeLimits limits) {
    return CompletableFuture.supplyAsync(() -> {
      if (limits != null) limits.leftRouting();
      try {
        return handler.apply(request);
      } catch (Exception e) {
        return CompletableFuture.<HttpResponse>failedFuture(e);
      }
    }, routes).thenCompose(r -> r);
  }

  /** The liveness, readiness and metrics probes: cheap, and answered even when the node sheds requests. */
  static boolean probe(HttpRequest r) {
    String path = r.getUri().path();
    return r.method() == org.apache.pekko.http.javadsl.model.HttpMethods.GET
        && (path.equals("/healthz") || path.equals("/readyz") || path.equals("/metrics"));
  }

  private static HttpResponse busy(EdgeLimits limits) {
    return ErrorMapper.response(new DalangError(ErrorCode.CAPACITY_EXHAUSTED, "the node is busy: " + limits.maxRoutingBacklog()
        + " requests wait to be routed (dalang.http.max-routing-backlog); retry shortly", null, 1));
  }

  private static HttpResponse tooManyConnections(EdgeLimits limits, EdgeLimits.Admission admission) {
    String message = admission == EdgeLimits.Admission.OVER_ADDRESS_CAP
        ? "too many open connections from this address (dalang.http.max-connections-per-address = " + limits.maxConnectionsPerAddress()
            + "); reuse one"
        : "too many open connections to this node (dalang.http.max-connections = " + limits.maxConnections() + "); retry shortly";
    return ErrorMapper.response(new DalangError(ErrorCode.CAPACITY_EXHAUSTED, message, null, 1))
        .addHeader(org.apache.pekko.http.javadsl.model.headers.Connection.create("close"));
  }

  /** The connection of {@code request}; empty for a request that did not come through {@link #wrap}. */
  public static Optional<Connection> of(HttpRequest request) {
    return request.getAttribute(CONNECTION);
  }

  /**
   * One client connection: closed once, with the callbacks registered at that moment run once. It also
   * keeps the edge's clock: between a response and the next request's headers at most the header (first
   * request) or keep-alive timeout may pass.
   */
  public static final class Connection {
    private final Set<Runnable> onClose = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final EdgeLimits limits;
    private volatile String address;
    private final AtomicInteger inFlight = new AtomicInteger();
    /** Bumped by every request, so that a clock armed before it does nothing. */
    private final AtomicLong epoch = new AtomicLong();
    private volatile UniqueKillSwitch cut;
    private volatile Materializer mat;
    private volatile Cancellable clock;

    Connection() {
      this(null);
    }

    Connection(EdgeLimits limits) {
      this.limits = limits;
    }

    void startClock(UniqueKillSwitch cut, Materializer mat) {
      this.cut = cut;
      this.mat = mat;
      arm(limits.headerTimeout());
    }

    /** A request's headers are in: stops the clock; whether this connection is over a connection cap. */
    EdgeLimits.Admission received(HttpRequest request) {
      epoch.incrementAndGet();
      inFlight.incrementAndGet();
      Cancellable c = clock;
      if (c != null) c.cancel();
      if (address != null) return EdgeLimits.Admission.OPEN;
      address = ClientAddress.of(request);
      return limits.open(address);
    }

    /** {@code response} watched to its last byte, after which the keep-alive clock runs. */
    HttpResponse responding(HttpResponse response) {
      var entity = response.entity();
      if (entity.isStrict()) {
        responded();
        return response;
      }
      return response.transformEntityDataBytes(Flow.<ByteString>create().watchTermination((m, done) -> {
        done.whenComplete((d, err) -> responded());
        return m;
      }));
    }

    private void responded() {
      if (inFlight.decrementAndGet() == 0 && !closed) arm(limits.keepAliveTimeout());
    }

    private void arm(java.time.Duration timeout) {
      long armedAt = epoch.get();
      clock = mat.scheduleOnce(scala.concurrent.duration.Duration.fromNanos(timeout.toNanos()), () -> {
        if (epoch.get() == armedAt && inFlight.get() == 0) cut.shutdown();
      });
    }

    /**
     * Runs {@code callback} when the connection closes (at once if it is closed already); the result
     * removes it again.
     */
    public Runnable onClose(Runnable callback) {
      onClose.add(callback);
      if (closed && onClose.remove(callback)) callback.run();
      return () -> onClose.remove(callback);
    }

    public boolean isClosed() {
      return closed;
    }

    /** How many callbacks wait (what a keep-alive connection holds). */
    int waiting() {
      return onClose.size();
    }

    void close() {
      closed = true;
      Cancellable c = clock;
      if (c != null) c.cancel();
      if (address != null) limits.release(address);
      for (Runnable r : onClose) {
        if (onClose.remove(r)) r.run();
      }
    }
  }
}
