package io.dalang.models;

import io.dalang.engine.OutboundAddresses;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * One guarded HTTP/1.1 {@code GET} over a raw socket, the way {@code io.dalang.engine.RemoteSseCall} talks
 * to a provider, because the address comes from an admin and may be hostile or mistaken:
 * <ul>
 *   <li>the host is resolved here, every address it resolves to is checked with {@link OutboundAddresses},
 *       and the socket connects to the checked address, so a DNS answer that changes in between (rebinding)
 *       cannot move it;
 *   <li>https verifies the certificate against the host (SNI and endpoint identification), or, when a
 *       fingerprint is pinned, accepts exactly that certificate ({@link PinnedTrust});
 *   <li>the status line and each header are bounded, and so is their number; the body of an answer that is
 *       not the blob is never read;
 *   <li>{@code Accept-Encoding: identity}: the bytes hashed are the bytes sent, not a decompression of them.
 * </ul>
 * Blob downloads and the health and metrics probes of upstream engines use it.
 * The address check is {@code RemoteSseCall}'s, kept here rather than shared so that the engine's
 * package-private call stays as it is; both rest on the one {@link OutboundAddresses} rule.
 */
public final class HttpGet implements Closeable {
  static final int MAX_LINE = 8 * 1024;
  static final int MAX_HEADERS = 100;
  private static final Pattern STATUS = Pattern.compile("HTTP/1\\.[01] (\\d{3})(?: .*)?");
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  /** Headers that frame the body: two different values for one of them make the body untrustworthy. */
  private static final List<String> FRAMING = List.of("content-length", "content-range", "transfer-encoding");

  private final Socket socket;
  private final int status;
  private final Map<String, String> headers;
  private final InputStream in;

  private HttpGet(Socket socket, int status, Map<String, String> headers, InputStream in) {
    this.socket = socket;
    this.status = status;
    this.headers = headers;
    this.in = in;
  }

  /**
   * Sends the request and reads the status line and headers; the body is left for {@link #body()}.
   *
   * @param from the first byte wanted: above 0 a {@code Range: bytes=from-} header asks for the rest
   */
  public static HttpGet open(URI url, long from, String bearer, boolean allowPrivate, String pinnedCertSha256, int timeoutMs)
      throws IOException {
    boolean https = url.getScheme().equalsIgnoreCase("https");
    int port = url.getPort() > 0 ? url.getPort() : https ? 443 : 80;
    String host = url.getHost();
    InetAddress address = OutboundAddresses.resolveChecked(host, allowPrivate, BlobFetchRefusedException::new);
    Socket plain = new Socket();
    try {
      plain.setSoTimeout(timeoutMs);
      plain.connect(new InetSocketAddress(address, port), timeoutMs);
      Socket s = https ? tls(plain, bare(host), port, pinnedCertSha256) : plain;
      OutputStream out = s.getOutputStream();
      String target = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
          + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
      String head = "GET " + target + " HTTP/1.1\r\nHost: " + host + (url.getPort() > 0 ? ":" + port : "")
          + "\r\nConnection: close\r\nAccept-Encoding: identity\r\nUser-Agent: dalang\r\n"
          + (bearer == null ? "" : "Authorization: Bearer " + bearer + "\r\n")
          + (from > 0 ? "Range: bytes=" + from + "-\r\n" : "")
          + "\r\n";
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = new BufferedInputStream(s.getInputStream(), 64 * 1024);
      String statusLine = readLine(in);
      Matcher m = STATUS.matcher(statusLine);
      if (!m.matches()) throw new IOException("the server did not answer HTTP/1.1");
      Map<String, String> headers = readHeaders(in);
      return new HttpGet(s, Integer.parseInt(m.group(1)), headers, in);
    } catch (IOException | RuntimeException e) {
      plain.close();
      throw e;
    }
  }

  public int status() {
    return status;
  }

  /** {@code Content-Length}, or -1 when absent or when the body is chunked (which takes precedence). */
  long contentLength() throws IOException {
    if (chunked()) return -1;
    String v = headers.get("content-length");
    if (v == null) return -1;
    try {
      long n = Long.parseLong(v.trim());
      if (n < 0) throw new NumberFormatException();
      return n;
    } catch (NumberFormatException e) {
      throw new IOException("the server sent an invalid Content-Length");
    }
  }

  /** A 206's {@code Content-Range: bytes first-last/total}; null when absent or malformed. */
  ContentRange contentRange() {
    String v = headers.get("content-range");
    if (v == null) return null;
    Matcher m = CONTENT_RANGE.matcher(v.trim());
    if (!m.matches()) return null;
    try {
      long first = Long.parseLong(m.group(1));
      long last = Long.parseLong(m.group(2));
      long total = m.group(3).equals("*") ? -1 : Long.parseLong(m.group(3));
      return last < first ? null : new ContentRange(first, last, total);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** A {@code Content-Range}; {@code total} is -1 when the server does not say. */
  record ContentRange(long first, long last, long total) {}

  /**
   * The framed body: it ends where {@code Content-Length} or the last chunk says, and a connection that
   * closes before that fails the read (so a cut transfer is never taken for a whole one). A body that is
   * framed by neither is refused: its end could not be told from a cut.
   */
  public InputStream body() throws IOException {
    if (chunked()) return new ChunkedInputStream(in);
    long length = contentLength();
    if (length < 0) throw new IOException("the server sent neither Content-Length nor chunked encoding");
    return new FixedLengthInputStream(in, length);
  }

  private boolean chunked() throws IOException {
    String te = headers.get("transfer-encoding");
    if (te == null) return false;
    if (te.trim().equalsIgnoreCase("chunked")) return true;
    throw new IOException("the server sent an unsupported Transfer-Encoding");
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }

  private static Socket tls(Socket plain, String host, int port, String pinnedCertSha256) throws IOException {
    SSLSocketFactory factory;
    if (pinnedCertSha256 == null) {
      factory = (SSLSocketFactory) SSLSocketFactory.getDefault();
    } else {
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {new PinnedTrust(pinnedCertSha256)}, null);
        factory = ctx.getSocketFactory();
      } catch (GeneralSecurityException e) {
        throw new IOException("no TLS context", e);
      }
    }
    var ssl = (SSLSocket) factory.createSocket(plain, host, port, true);
    if (pinnedCertSha256 == null) {
      // With a pin the pin is the identity (a self-signed cert on an address has no name to check).
      SSLParameters p = ssl.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(p);
    }
    try {
      ssl.startHandshake();
    } catch (SSLHandshakeException e) {
      throw new BlobFetchRefusedException("TLS handshake with " + host + " failed: "
          + (pinnedCertSha256 == null ? "certificate not trusted for this host" : "certificate does not match the pinned fingerprint"), e);
    }
    return ssl;
  }

  /** An IPv6 literal without its URI brackets, as TLS and certificate checks want it. */
  private static String bare(String host) {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  private static Map<String, String> readHeaders(InputStream in) throws IOException {
    var headers = new HashMap<String, String>();
    for (int i = 0; ; i++) {
      String line = readLine(in);
      if (line.isEmpty()) return headers;
      if (i >= MAX_HEADERS) throw new IOException("the server sent more than " + MAX_HEADERS + " headers");
      int colon = line.indexOf(':');
      if (colon <= 0) throw new IOException("the server sent a malformed header");
      String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
      String value = line.substring(colon + 1).trim();
      String before = headers.putIfAbsent(name, value);
      // Two different lengths (or ranges) are a framing attack or a broken proxy; either way the body cannot be trusted.
      if (before != null && !before.equals(value) && FRAMING.contains(name)) {
        throw new IOException("the server sent conflicting " + name + " headers");
      }
    }
  }

  /** Reads one CRLF- (or LF-) ended line of at most {@link #MAX_LINE} bytes; EOF before its end fails. */
  static String readLine(InputStream in) throws IOException {
    var buf = new ByteArrayOutputStream(128);
    for (int c; ; ) {
      c = in.read();
      if (c < 0) throw new IOException("the connection closed inside the response head");
      if (c == '\n') break;
      if (buf.size() >= MAX_LINE) throw new IOException("the server sent a line longer than " + MAX_LINE + " bytes");
      buf.write(c);
    }
    byte[] b = buf.toByteArray();
    int n = b.length > 0 && b[b.length - 1] == '\r' ? b.length - 1 : b.length;
    return new String(b, 0, n, StandardCharsets.ISO_8859_1);
  }

  /** Exactly {@code length} bytes; EOF before that is an error, not an end. */
  private static final class FixedLengthInputStream extends InputStream {
    private final InputStream in;
    private long left;

    FixedLengthInputStream(InputStream in, long length) {
      this.in = in;
      this.left = length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (left == 0) return -1;
      int n = in.read(b, off, (int) Math.min(len, left));
      if (n < 0) throw new IOException("the connection closed with " + left + " bytes of the body still to come");
      left -= n;
      return n;
    }
  }
}
