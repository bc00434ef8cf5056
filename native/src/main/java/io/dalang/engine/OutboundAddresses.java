package io.dalang.engine;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Which addresses an outbound connection to a provider may reach. Everything that is not a public
 * unicast address is refused unless the provider was created with {@code allow_private}: loopback,
 * link-local, private (RFC 1918, ULA {@code fc00::/7}), CGNAT {@code 100.64.0.0/10}, unspecified,
 * multicast and broadcast, reserved ranges, and the cloud metadata endpoints ({@code 169.254.169.254},
 * {@code fd00:ec2::254}), which are refused even then: no provider is ever a metadata service.
 *
 * <p>IPv6 forms that carry an IPv4 address (IPv4-mapped {@code ::ffff:0:0/96}, IPv4-compatible
 * {@code ::/96}, NAT64 {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}) are judged by that IPv4 address.
 */
public final class OutboundAddresses {
  /** What kind of address it is; only {@link #PUBLIC} is reachable without {@code allow_private}. */
  public enum AddressClass {
    PUBLIC, LOOPBACK, LINK_LOCAL, PRIVATE, UNIQUE_LOCAL, CGNAT, UNSPECIFIED, MULTICAST, BROADCAST, RESERVED, METADATA;

    /** How a refusal names it: {@code link-local}, {@code unique-local}. */
    public String wireName() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  private static final byte[] METADATA_V6 = v6("fd00:ec2::254");

  private OutboundAddresses() {}

  /** The class of {@code a}. */
  public static AddressClass classify(InetAddress a) {
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) return classifyV4(b);
    if (a instanceof Inet6Address) return classifyV6(b);
    return AddressClass.RESERVED;
  }

  /** Whether a connection may go to {@code a}: a public address, or with {@code allowPrivate} anything but metadata. */
  public static boolean allowed(InetAddress a, boolean allowPrivate) {
    AddressClass c = classify(a);
    return c == AddressClass.PUBLIC || (allowPrivate && c != AddressClass.METADATA);
  }

  /**
   * The address to connect to for {@code host}: the first it resolves to, once every one of them passed
   * {@link #allowed}. Connecting to the returned address (not the name again) keeps a DNS answer that
   * changes after the check (rebinding) from moving the connection. A refused address becomes
   * {@code refused.apply(message)}; the message names the host and the address class, never the address.
   */
  public static <E extends java.io.IOException> InetAddress resolveChecked(String host, boolean allowPrivate,
      java.util.function.Function<String, E> refused) throws java.io.IOException {
    InetAddress[] all = InetAddress.getAllByName(host);
    for (InetAddress a : all) {
      if (!allowed(a, allowPrivate)) {
        throw refused.apply("host " + host + " resolves to a " + classify(a).wireName() + " address"
            + (allowPrivate ? "" : " and private addresses are not allowed here"));
      }
    }
    return all[0];
  }

  private static AddressClass classifyV4(byte[] b) {
    int o0 = b[0] & 0xff;
    int o1 = b[1] & 0xff;
    int o2 = b[2] & 0xff;
    int o3 = b[3] & 0xff;
    if (o0 == 169 && o1 == 254 && o2 == 169 && o3 == 254) return AddressClass.METADATA;
    if (o0 == 0) return AddressClass.UNSPECIFIED; // 0.0.0.0/8, "this network"
    if (o0 == 127) return AddressClass.LOOPBACK;
    if (o0 == 10 || (o0 == 172 && (o1 & 0xf0) == 16) || (o0 == 192 && o1 == 168)) return AddressClass.PRIVATE;
    if (o0 == 100 && (o1 & 0xc0) == 64) return AddressClass.CGNAT;
    if (o0 == 169 && o1 == 254) return AddressClass.LINK_LOCAL;
    if (o0 == 255 && o1 == 255 && o2 == 255 && o3 == 255) return AddressClass.BROADCAST;
    if (o0 >= 224 && o0 <= 239) return AddressClass.MULTICAST;
    if (o0 >= 240) return AddressClass.RESERVED; // 240.0.0.0/4
    // IETF protocol assignments, documentation nets and benchmarking: nothing a provider lives on.
    if ((o0 == 192 && o1 == 0 && (o2 == 0 || o2 == 2)) || (o0 == 198 && (o1 & 0xfe) == 18) || (o0 == 198 && o1 == 51 && o2 == 100)
        || (o0 == 203 && o1 == 0 && o2 == 113)) {
      return AddressClass.RESERVED;
    }
    return AddressClass.PUBLIC;
  }

  private static AddressClass classifyV6(byte[] b) {
    if (Arrays.equals(b, METADATA_V6)) return AddressClass.METADATA;
    boolean first10Zero = true;
    for (int i = 0; i < 10; i++) first10Zero &= b[i] == 0;
    if (first10Zero && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) return classifyV4(Arrays.copyOfRange(b, 12, 16)); // ::ffff:a.b.c.d
    if (first10Zero && b[10] == 0 && b[11] == 0) {
      boolean allZero = true;
      for (int i = 12; i < 15; i++) allZero &= b[i] == 0;
      if (allZero && b[15] == 0) return AddressClass.UNSPECIFIED; // ::
      if (allZero && b[15] == 1) return AddressClass.LOOPBACK; // ::1
      return classifyV4(Arrays.copyOfRange(b, 12, 16)); // ::a.b.c.d, IPv4-compatible (deprecated)
    }
    int w0 = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
    if (w0 == 0x0064 && b[2] == (byte) 0xff && b[3] == (byte) 0x9b) {
      boolean zero = true;
      for (int i = 4; i < 12; i++) zero &= b[i] == 0;
      if (zero) return classifyV4(Arrays.copyOfRange(b, 12, 16)); // 64:ff9b::/96, NAT64
    }
    if (w0 == 0x2002) return classifyV4(Arrays.copyOfRange(b, 2, 6)); // 6to4
    if ((b[0] & 0xfe) == 0xfc) return AddressClass.UNIQUE_LOCAL; // fc00::/7
    if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass.LINK_LOCAL; // fe80::/10
    if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass.PRIVATE; // fec0::/10, deprecated site-local
    if ((b[0] & 0xff) == 0xff) return AddressClass.MULTICAST;
    if (w0 == 0x2001 && b[2] == 0x0d && (b[3] & 0xff) == 0xb8) return AddressClass.RESERVED; // 2001:db8::/32, documentation
    if ((b[0] & 0xe0) != 0x20) return AddressClass.RESERVED; // outside 2000::/3, the global unicast space
    return AddressClass.PUBLIC;
  }

  private static byte[] v6(String literal) {
    try {
      return InetAddress.getByName(literal).getAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }
}
