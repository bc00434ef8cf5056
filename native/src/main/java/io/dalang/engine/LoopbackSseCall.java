package io.dalang.engine;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * One streaming {@code POST} to an engine on loopback, written and read by one thread with blocking
 * socket I/O: the thread that the kernel wakes when a chunk arrives decodes the HTTP chunk, splits the
 * SSE lines and hands each to the line handler itself. The JDK's {@code HttpClient} instead reads on
 * a selector thread and hands every chunk to an executor thread, one thread wake-up per token more,
 * and its per-chunk machinery was the largest share of what Dalang spent per token (see
 * {@code docs/benchmarks.md}).
 *
 * <p>Each call opens its own connection ({@code Connection: close}): a request can never land on a
 * kept-alive connection the server is closing, so nothing needs resending, and closing the socket is
 * how a call is cancelled (the server stops the generation when its write fails).
 *
 * <p>HTTP/1.1 as llama-server speaks it: a status line, headers, then a body that is chunked, sized by
 * {@code Content-Length}, or ends with the connection.
 */
final class LoopbackSseCall implements Runnable {
  /** Receives the response; all calls come from the call's one thread, in order. */
  interface Handler {
    /** The status line arrived. */
    void status(int code);

    /** One body line, without its line break. */
    void line(String line);

    /** The body ended normally (the server's last chunk, or its close). */
    void ended();

    /** The connection failed before the body ended, or could not be opened. */
    void failed(IOException e);
  }

  private static final ExecutorService READERS = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "engine-stream");
    t.setDaemon(true);
    return t;
  });

  /** A response line or chunk header longer than this is not llama-server's. */
  static final int MAX_HEAD_LINE = 16 * 1024;

  private final URI base;
  private final String path;
  private final byte[] body;
  private final int connectTimeoutMs;
  private final Handler handler;
  private final String apiKey;
  private final Socket socket = new Socket();

  private LoopbackSseCall(URI base, String path, byte[] body, int connectTimeoutMs, Handler handler, String apiKey) {
    this.apiKey = apiKey;
    this.base = base;
    this.path = path;
    this.body = body;
    this.connectTimeoutMs = connectTimeoutMs;
    this.handler = handler;
  }

  /** Starts the call on a reader thread. */
  static LoopbackSseCall start(URI base, String path, byte[] body, int connectTimeoutMs, Handler handler) {
    return start(base, path, body, connectTimeoutMs, handler, null);
  }

  /** As {@link #start(URI, String, byte[], int, Handler)}, sending {@code apiKey} (if not null) as a bearer token. */
  static LoopbackSseCall start(URI base, String path, byte[] body, int connectTimeoutMs, Handler handler, String apiKey) {
    var call = new LoopbackSseCall(base, path, body, connectTimeoutMs, handler, apiKey);
    READERS.execute(call);
    return call;
  }

  /** Closes the connection; a read in progress fails at once (the handler hears {@code failed}). */
  void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void run() {
    try (socket) {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), connectTimeoutMs);
      OutputStream out = socket.getOutputStream();
      String head = "POST " + path + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
          + (apiKey != null ? "\r\nAuthorization: Bearer " + apiKey : "")
          + "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nConnection: close\r\nContent-Length: "
          + body.length + "\r\n\r\n";
      byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
      byte[] request = new byte[headBytes.length + body.length];
      System.arraycopy(headBytes, 0, request, 0, headBytes.length);
      System.arraycopy(body, 0, request, headBytes.length, body.length);
      out.write(request);
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
      readResponse(in, handler);
      handler.ended();
    } catch (IOException e) {
      handler.failed(e);
    }
  }

  /** Reads a whole HTTP/1.1 response from {@code in}, handing its status and body lines on. */
  static void readResponse(InputStream in, Handler handler) throws IOException {
    readResponse(in, handler, Integer.MAX_VALUE);
  }

  /** The same, and a body line longer than {@code maxLine} bytes fails the read. */
  static void readResponse(InputStream in, Handler handler, int maxLine) throws IOException {
    String statusLine = asciiLine(in);
    if (statusLine == null) throw new EOFException("connection closed before a response");
    String[] parts = statusLine.split(" ", 3);
    if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) throw new IOException("not an HTTP/1.x response: " + clip(statusLine));
    int status;
    try {
      status = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IOException("bad status line: " + clip(statusLine));
    }
    boolean chunked = false;
    long length = -1;
    for (String h = asciiLine(in); ; h = asciiLine(in)) {
      if (h == null) throw new EOFException("connection closed inside the response headers");
      if (h.isEmpty()) break;
      int colon = h.indexOf(':');
      if (colon <= 0) continue;
      String name = h.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).trim();
      if (name.equals("transfer-encoding") && value.toLowerCase(Locale.ROOT).contains("chunked")) chunked = true;
      else if (name.equals("content-length")) {
        try {
          length = Long.parseLong(value);
        } catch (NumberFormatException e) {
          throw new IOException("bad Content-Length: " + clip(value));
        }
      }
    }
    handler.status(status);
    var lines = new LineSplitter(handler, maxLine);
    byte[] buf = new byte[16 * 1024];
    if (chunked) {
      while (true) {
        String sizeLine = asciiLine(in);
        if (sizeLine == null) throw new EOFException("connection closed inside a chunked body");
        int semi = sizeLine.indexOf(';');
        long size;
        try {
          size = Long.parseLong((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
        } catch (NumberFormatException e) {
          throw new IOException("bad chunk size: " + clip(sizeLine));
        }
        if (size == 0) {
          while (true) { // trailers, up to the empty line
            String t = asciiLine(in);
            if (t == null || t.isEmpty()) break;
          }
          break;
        }
        feed(in, size, buf, lines, "inside a chunk");
        String crlf = asciiLine(in);
        if (crlf == null || !crlf.isEmpty()) throw new IOException("chunk not followed by CRLF");
      }
    } else if (length >= 0) {
      feed(in, length, buf, lines, "before the end of the body");
    } else {
      for (int n = in.read(buf); n >= 0; n = in.read(buf)) lines.feed(buf, n);
    }
    lines.flush();
  }

  /** Hands the next {@code length} bytes of {@code in} to {@code lines}; the stream ending first is an {@link EOFException}. */
  private static void feed(InputStream in, long length, byte[] buf, LineSplitter lines, String where) throws IOException {
    for (long left = length; left > 0; ) {
      int n = in.read(buf, 0, (int) Math.min(buf.length, left));
      if (n < 0) throw new EOFException("connection closed " + where + ", " + left + " bytes short");
      lines.feed(buf, n);
      left -= n;
    }
  }

  /** A CRLF- or LF-terminated line of the response head; null at end of stream before any byte. */
  private static String asciiLine(InputStream in) throws IOException {
    var sb = new StringBuilder(64);
    while (true) {
      int c = in.read();
      if (c < 0) return sb.length() == 0 ? null : sb.toString();
      if (c == '\n') {
        int n = sb.length();
        if (n > 0 && sb.charAt(n - 1) == '\r') sb.setLength(n - 1);
        return sb.toString();
      }
      if (sb.length() >= MAX_HEAD_LINE) throw new IOException("response line longer than " + MAX_HEAD_LINE + " bytes");
      sb.append((char) c);
    }
  }

  private static String clip(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  /**
   * Splits body bytes into lines at {@code \n} (dropping a {@code \r} before it) and decodes each as
   * UTF-8 once it is whole, so a character split across two chunks or reads stays intact.
   */
  static final class LineSplitter {
    private final Handler handler;
    private final int maxLine;
    private byte[] line = new byte[1024];
    private int len;

    LineSplitter(Handler handler, int maxLine) {
      this.handler = handler;
      this.maxLine = maxLine;
    }

    void feed(byte[] buf, int n) throws IOException {
      int from = 0;
      for (int i = 0; i < n; i++) {
        if (buf[i] != '\n') continue;
        append(buf, from, i - from);
        emit();
        from = i + 1;
      }
      append(buf, from, n - from);
    }

    /** A last line without a line break. */
    void flush() {
      if (len > 0) emit();
    }

    private void append(byte[] buf, int off, int n) throws IOException {
      if (n == 0) return;
      if (len + n > maxLine) throw new IOException("a body line is longer than " + maxLine + " bytes");
      if (len + n > line.length) line = java.util.Arrays.copyOf(line, Math.max(line.length * 2, len + n));
      System.arraycopy(buf, off, line, len, n);
      len += n;
    }

    private void emit() {
      int n = len > 0 && line[len - 1] == '\r' ? len - 1 : len;
      len = 0;
      handler.line(new String(line, 0, n, StandardCharsets.UTF_8));
    }
  }
}
