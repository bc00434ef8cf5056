package io.dalang.runtime.http;

import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The network address a request came from, as the server saw the connection ({@code
 * remote-address-attribute = on}); never {@code X-Forwarded-For} or anything else a client can write,
 * since limits per address must not be dodged by sending a header.
 */
public final class ClientAddress {
  /**
   * The gRPC edge's way to hand the address to a service: the binding overwrites this metadata entry
   * on every call ({@link #stamped}), so a value a client sent never arrives.
   */
  public static final String GRPC_METADATA = "x-dalang-client-address";

  private ClientAddress() {}

  public static String of(HttpRequest request) {
    return request.getAttribute(AttributeKeys.remoteAddress)
        .flatMap(a -> a.getAddress())
        .map(a -> a.getHostAddress())
        .orElse("unknown");
  }

  /** The address the gRPC binding stamped on a call ({@link #stamped}). */
  public static String of(org.apache.pekko.grpc.javadsl.Metadata md) {
    return md.getText(GRPC_METADATA).orElse("unknown");
  }

  /** {@code request} with {@link #GRPC_METADATA} set to its address, whatever the client sent. */
  public static HttpRequest stamped(HttpRequest request) {
    return request.removeHeader(GRPC_METADATA).addHeader(RawHeader.create(GRPC_METADATA, of(request)));
  }
}
