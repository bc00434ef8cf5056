package io.dalang.runtime.security;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * One keep-alive HTTP/1.1 connection from a chosen local address (any of 127/8 is loopback), for attack
 * tests that must look like a different client than the test's own {@code ApiClient} on 127.0.0.1.
 */
final class RawHttp implements AutoCloseable {
  record Response(int status, Map<String, String> headers, String body, long nanos) {}

  private final Socket socket;
  private final OutputStream out;
  private final InputStream in;

  RawHttp(String from, int port) throws IOException {
    socket = new Socket(InetAddress.getLoopbackAddress(), port, InetAddress.getByName(from), 0);
    socket.setSoTimeout(30_000);
    socket.setTcpNoDelay(true);
    out = socket.getOutputStream();
    in = new BufferedInputStream(socket.getInputStream());
  }

  /** Sends a request ({@code body} null: none) and reads the whole response. */
  Response send(String method, String path, Map<String, String> headers, byte[] body) throws IOException {
    long start = System.nanoTime();
    var head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
    if (body != null) head.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
    head.append("\r\n");
    out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
    if (body != null) out.write(body);
    out.flush();
    return read(start);
  }

  /** Sends {@code request} exactly as given (request line, headers, body) and reads the response. */
  Response exchange(byte[] request) throws IOException {
    long start = System.nanoTime();
    out.write(request);
    out.flush();
    return read(start);
  }

  private Response read(long start) throws IOException {
    String status = line();
    if (status == null) throw new IOException("connection closed before a response");
    var headers = new HashMap<String, String>();
    for (String l; !(l = line()).isEmpty(); ) {
      int colon = l.indexOf(':');
      headers.put(l.substring(0, colon).strip().toLowerCase(java.util.Locale.ROOT), l.substring(colon + 1).strip());
    }
    int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
    byte[] body = in.readNBytes(length);
    return new Response(Integer.parseInt(status.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8), System.nanoTime() - start);
  }

  private String line() throws IOException {
    var b = new ByteArrayOutputStream();
    for (int c; (c = in.read()) != -1; ) {
      if (c == '\n') return b.toString(StandardCharsets.ISO_8859_1).stripTrailing();
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
