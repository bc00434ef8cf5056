package io.dalang.runtime.http;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.Flow;

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
 */
public final class ConnectionWatch {
  /** The connection a request came on. */
  public static final AttributeKey<Connection> CONNECTION = AttributeKey.create("dalang-connection", Connection.class);

  private ConnectionWatch() {}

  /** {@code route} with every connection watched: bind the result with {@code bindFlow}. */
  public static Flow<HttpRequest, HttpResponse, NotUsed> wrap(Flow<HttpRequest, HttpResponse, NotUsed> route) {
    return Flow.<HttpRequest, HttpResponse, NotUsed>fromMaterializer((mat, attributes) -> {
      var connection = new Connection();
      return Flow.<HttpRequest>create()
          .watchTermination((m, done) -> {
            done.whenComplete((d, err) -> connection.close());
            return m;
          })
          .map(r -> r.addAttribute(CONNECTION, connection))
          .via(route);
    }).mapMaterializedValue(m -> NotUsed.getInstance());
  }

  /** The connection of {@code request}; empty for a request that did not come through {@link #wrap}. */
  public static Optional<Connection> of(HttpRequest request) {
    return request.getAttribute(CONNECTION);
  }

  /** One client connection: closed once, with the callbacks registered at that moment run once. */
  public static final class Connection {
    private final Set<Runnable> onClose = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

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
      for (Runnable r : onClose) {
        if (onClose.remove(r)) r.run();
      }
    }
  }
}
