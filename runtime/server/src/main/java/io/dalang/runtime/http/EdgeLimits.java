package io.dalang.runtime.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one client connection may hold of the HTTP edge ({@code dalang.http}, docs/security.md
 * "The HTTP edge"), and the counts of open connections, per client address and in all, that the caps are
 * checked against. One instance per HTTP binding.
 */
public final class EdgeLimits {
  private final Duration headerTimeout;
  private final Duration keepAliveTimeout;
  private final int maxConnectionsPerAddress;
  private final int maxConnections;
  private final Duration sseKeepAlive;
  private final ConcurrentHashMap<String, Integer> open = new ConcurrentHashMap<>();
  private final AtomicInteger openInAll = new AtomicInteger();
  private final int maxRoutingBacklog;
  private final AtomicInteger routing = new AtomicInteger();

  /** Why a connection's first request is refused, if it is. */
  enum Admission { OPEN, OVER_ADDRESS_CAP, OVER_NODE_CAP }

  /**
   * @param headerTimeout from the connection's start to the end of its first request's headers; a client
   *     that is slower (Slowloris) is disconnected
   * @param keepAliveTimeout from the end of a response to the end of the next request's headers
   * @param maxConnectionsPerAddress connections one address may have open; the next one's first request
   *     gets {@code 429 capacity_exhausted} and the connection is closed
   * @param maxConnections connections all addresses together may have open; the same answer beyond
   * @param sseKeepAlive how often a stream with nothing to send writes {@code : keep-alive}; also how long
   *     a stream waits for its first event before its {@code 200} is sent
   */
  public EdgeLimits(Duration headerTimeout, Duration keepAliveTimeout, int maxConnectionsPerAddress, int maxConnections,
      Duration sseKeepAlive) {
    this(headerTimeout, keepAliveTimeout, maxConnectionsPerAddress, maxConnections, sseKeepAlive, DEFAULT_ROUTING_BACKLOG);
  }

  /** {@code dalang.http.max-routing-backlog}'s default. */
  public static final int DEFAULT_ROUTING_BACKLOG = 512;

  /**
   * @param maxRoutingBacklog requests read but not yet taken up by a route thread (authentication, JSON,
   *     validation, the run's start): one more is answered {@code 429 capacity_exhausted} at once, without
   *     that work, so that a burst larger than the node routes in a moment is refused fast instead of
   *     waiting its turn to be refused
   */
  public EdgeLimits(Duration headerTimeout, Duration keepAliveTimeout, int maxConnectionsPerAddress, int maxConnections,
      Duration sseKeepAlive, int maxRoutingBacklog) {
    if (maxRoutingBacklog < 1) throw new IllegalArgumentException("dalang.http.max-routing-backlog must be at least 1");
    this.maxRoutingBacklog = maxRoutingBacklog;
    if (maxConnectionsPerAddress < 1) throw new IllegalArgumentException("dalang.http.max-connections-per-address must be at least 1");
    if (maxConnections < 1) throw new IllegalArgumentException("dalang.http.max-connections must be at least 1");
    for (Duration d : new Duration[] {headerTimeout, keepAliveTimeout, sseKeepAlive}) {
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException("dalang.http header-timeout, keep-alive-timeout and sse-keep-alive must be positive");
      }
    }
    this.headerTimeout = headerTimeout;
    this.keepAliveTimeout = keepAliveTimeout;
    this.maxConnectionsPerAddress = maxConnectionsPerAddress;
    this.maxConnections = maxConnections;
    this.sseKeepAlive = sseKeepAlive;
  }

  public static EdgeLimits from(Config c) {
    return new EdgeLimits(c.getDuration("dalang.http.header-timeout"), c.getDuration("dalang.http.keep-alive-timeout"),
        c.getInt("dalang.http.max-connections-per-address"), c.getInt("dalang.http.max-connections"),
        c.getDuration("dalang.http.sse-keep-alive"), c.getInt("dalang.http.max-routing-backlog"));
  }

  public Duration headerTimeout() {
    return headerTimeout;
  }

  public Duration keepAliveTimeout() {
    return keepAliveTimeout;
  }

  public int maxConnectionsPerAddress() {
    return maxConnectionsPerAddress;
  }

  public int maxConnections() {
    return maxConnections;
  }

  public Duration sseKeepAlive() {
    return sseKeepAlive;
  }

  /**
   * Counts one more connection of {@code address}, and whether that is over a cap (it is counted all the
   * same, until its {@link #release}). The address's cap is named first: it is the one its client can do
   * something about.
   */
  Admission open(String address) {
    int ofAddress = open.merge(address, 1, Integer::sum);
    int inAll = openInAll.incrementAndGet();
    if (ofAddress > maxConnectionsPerAddress) return Admission.OVER_ADDRESS_CAP;
    return inAll > maxConnections ? Admission.OVER_NODE_CAP : Admission.OPEN;
  }

  public int maxRoutingBacklog() {
    return maxRoutingBacklog;
  }

  /** Counts a request waiting for a route thread; false (and not counted) when the backlog is full. */
  boolean enterRouting() {
    if (routing.incrementAndGet() <= maxRoutingBacklog) return true;
    routing.decrementAndGet();
    return false;
  }

  /** A route thread took up a request counted by {@link #enterRouting}. */
  void leftRouting() {
    routing.decrementAndGet();
  }

  /** Requests waiting for a route thread now. */
  int routingBacklog() {
    return routing.get();
  }

  /** Counts one connection of {@code address} less. */
  void release(String address) {
    open.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
    openInAll.decrementAndGet();
  }

  /** Connections counted now (those whose first request came and that are not closed yet). */
  int openConnections() {
    return openInAll.get();
  }
}
