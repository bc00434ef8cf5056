package io.dalang.engine;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * One streaming {@code POST} to a provider (a remote OpenAI-compatible endpoint), read like
 * {@link LoopbackSseCall} but guarded for a host that is not ours:
 * <ul>
 *   <li>the host is resolved here and every address it resolves to is checked
 *       ({@link OutboundAddresses}); the socket connects to the address that was checked, so a DNS answer
 *       that changes between the check and the connection (rebinding) cannot move it;
 *   <li>https verifies the certificate against the host name (SNI and endpoint identification);
 *   <li>a redirect is an answer like any other non-200: never followed;
 *   <li>a body line longer than {@link #MAX_LINE} or a body longer than {@link #MAX_BODY} fails the call;
 *   <li>the socket read timeout bounds the wait for the response and every silence within it.
 * </ul>
 */
final class RemoteSseCall implements Runnable {
  /** The longest SSE line read from a provider; its token events are a few hundred bytes. */
  static final int MAX_LINE = 256 * 1024;
  /** The most bytes read from one provider response. */
  static final long MAX_BODY = 64L << 20;

  /** An address the provider may not reach; its message names the host and the class, never the answer's bytes. */
  static final class RefusedException extends IOException {
    private static final long serialVersionUID = 1L;

    RefusedException(String message) {
      super(message);
    }
  }

  /** The node has as many streams to remote engines open as it may; its message says so. */
  static final class BusyException extends IOException {
    private static final long serialVersionUID = 1L;

    BusyException(String message) {
      super(message);
    }
  }

  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "provider-stream");
    t.setDaemon(true);
    return t;
  });

  /** The default of {@link #maxStreams()}: each stream holds a reader thread, so this bounds the threads too. */
  static final int DEFAULT_MAX_STREAMS = 4096;
  private static volatile java.util.concurrent.Semaphore streams = new java.util.concurrent.Semaphore(DEFAULT_MAX_STREAMS);
  private static volatile int maxStreams = DEFAULT_MAX_STREAMS;

  /**
   * Sets how many streams to remote engines (providers of fallbacks, servers of upstream pools) this
   * process holds open at once ({@code dalang.engine.remote-streams-max}); one more fails at once with
   * {@code capacity_exhausted} instead of starting another reader thread. Set before serving.
   */
  static synchronized void maxStreams(int max) {
    if (max < 1) throw new IllegalArgumentException("dalang.engine.remote-streams-max must be at least 1");
    if (max == maxStreams) return;
    streams = new java.util.concurrent.Semaphore(max);
    maxStreams = max;
  }

  static int maxStreams() {
    return maxStreams;
  }

  /** Streams open now (tests, metrics). */
  static int openStreams() {
    return maxStreams - streams.availablePermits();
  }

  private java.util.concurrent.Semaphore held;

  private final URI url;
  private final byte[] body;
  private final String authorization;
  private final boolean allowPrivate;
  private final int timeoutMs;
  private final LoopbackSseCall.Handler handler;
  private final Socket socket = new Socket();

  private RemoteSseCall(URI url, byte[] body, String authorization, boolean allowPrivate, int timeoutMs, LoopbackSseCall.Handler handler) {
    this.url = url;
    this.body = body;
    this.authorization = authorization;
    this.allowPrivate = allowPrivate;
    this.timeoutMs = timeoutMs;
    this.handler = handler;
  }

  /**
   * Starts the call on a reader thread.
   *
   * @param url a URL that {@link RemoteOpenAiEndpoint#checkBaseUrl} accepted, plus the API path
   * @param authorization the {@code Authorization} header's value, or null for none
   */
  static RemoteSseCall start(URI url, byte[] body, String authorization, boolean allowPrivate, int timeoutMs,
      LoopbackSseCall.Handler handler) {
    var call = new RemoteSseCall(url, body, authorization, allowPrivate, timeoutMs, handler);
    var permits = streams;
    if (!permits.tryAcquire()) {
      handler.failed(new BusyException("this node has " + maxStreams + " streams to remote engines open (dalang.engine.remote-streams-max)"));
      return call;
    }
    call.held = permits;
    try {
      READERS.execute(call);
    } catch (RuntimeException e) {
      permits.release();
      throw e;
    }
    return call;
  }

  void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void run() {
    try {
      call();
    } finally {
      held.release();
    }
  }

  private void call() {
    try (socket) {
      boolean https = url.getScheme().equals("https");
      int port = url.getPort() > 0 ? url.getPort() : https ? 443 : 80;
      String host = url.getHost();
      InetAddress address = OutboundAddresses.resolveChecked(host, allowPrivate, RefusedException::new);
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(timeoutMs);
      socket.connect(new InetSocketAddress(address, port), (int) EngineHttp.CONNECT_TIMEOUT.toMillis());
      Socket s = https ? tls(socket, host, port) : socket;
      OutputStream out = s.getOutputStream();
      String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
      String head = "POST " + path + " HTTP/1.1\r\nHost: " + host + (url.getPort() > 0 ? ":" + port : "")
          + "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nConnection: close\r\n"
          + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
          + "Content-Length: " + body.length + "\r\n\r\n";
      out.write(head.getBytes(StandardCharsets.US_ASCII));
      out.write(body);
      out.flush();
      InputStream in = new BoundedInputStream(new BufferedInputStream(s.getInputStream(), 16 * 1024), MAX_BODY);
      LoopbackSseCall.readResponse(in, handler, MAX_LINE);
      handler.ended();
    } catch (IOException e) {
      handler.failed(e);
    }
  }

  private static Socket tls(Socket plain, String host, int port) throws IOException {
    var ssl = (SSLSocket) ((SSLSocketFactory) SSLSocketFactory.getDefault()).createSocket(plain, host, port, true);
    SSLParameters p = ssl.getSSLParameters();
    p.setEndpointIdentificationAlgorithm("HTTPS");
    ssl.setSSLParameters(p);
    ssl.startHandshake();
    return ssl;
  }
}
