package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dalang.engine.OutboundAddresses.AddressClass;
import java.net.Inet6Address;
import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class OutboundAddressesTest {

  private static AddressClass of(String literal) throws Exception {
    return OutboundAddresses.classify(InetAddress.getByName(literal));
  }

  /** An IPv6 address kept as IPv6 (the JDK turns {@code ::ffff:a.b.c.d} literals into IPv4 addresses). */
  private static AddressClass v6(String literal) throws Exception {
    byte[] b = InetAddress.getByName(literal).getAddress();
    if (b.length == 4) b = new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, b[0], b[1], b[2], b[3]};
    return OutboundAddresses.classify(Inet6Address.getByAddress(null, b, -1));
  }

  @Test
  void classifiesEveryIpv4Class() throws Exception {
    assertEquals(AddressClass.LOOPBACK, of("127.0.0.1"));
    assertEquals(AddressClass.LOOPBACK, of("127.255.0.9"));
    assertEquals(AddressClass.PRIVATE, of("10.1.2.3"));
    assertEquals(AddressClass.PRIVATE, of("172.16.0.1"));
    assertEquals(AddressClass.PRIVATE, of("172.31.255.254"));
    assertEquals(AddressClass.PUBLIC, of("172.32.0.1"));
    assertEquals(AddressClass.PRIVATE, of("192.168.1.1"));
    assertEquals(AddressClass.CGNAT, of("100.64.0.1"));
    assertEquals(AddressClass.CGNAT, of("100.127.255.255"));
    assertEquals(AddressClass.PUBLIC, of("100.128.0.1"));
    assertEquals(AddressClass.LINK_LOCAL, of("169.254.1.1"));
    assertEquals(AddressClass.METADATA, of("169.254.169.254"));
    assertEquals(AddressClass.UNSPECIFIED, of("0.0.0.0"));
    assertEquals(AddressClass.MULTICAST, of("224.0.0.1"));
    assertEquals(AddressClass.BROADCAST, of("255.255.255.255"));
    assertEquals(AddressClass.RESERVED, of("240.0.0.1"));
    assertEquals(AddressClass.RESERVED, of("192.0.2.10"));
    assertEquals(AddressClass.PUBLIC, of("8.8.8.8"));
    assertEquals(AddressClass.PUBLIC, of("1.1.1.1"));
  }

  @Test
  void classifiesEveryIpv6Class() throws Exception {
    assertEquals(AddressClass.LOOPBACK, of("::1"));
    assertEquals(AddressClass.UNSPECIFIED, of("::"));
    assertEquals(AddressClass.UNIQUE_LOCAL, of("fc00::1"));
    assertEquals(AddressClass.UNIQUE_LOCAL, of("fd12:3456::1"));
    assertEquals(AddressClass.METADATA, of("fd00:ec2::254"));
    assertEquals(AddressClass.LINK_LOCAL, of("fe80::1"));
    assertEquals(AddressClass.MULTICAST, of("ff02::1"));
    assertEquals(AddressClass.RESERVED, of("2001:db8::1"));
    assertEquals(AddressClass.PUBLIC, of("2606:4700:4700::1111"));
  }

  @Test
  void judgesIpv6FormsThatCarryAnIpv4AddressByThatAddress() throws Exception {
    assertEquals(AddressClass.LOOPBACK, v6("::ffff:127.0.0.1"));
    assertEquals(AddressClass.METADATA, v6("::ffff:169.254.169.254"));
    assertEquals(AddressClass.PRIVATE, v6("::ffff:10.0.0.1"));
    assertEquals(AddressClass.PUBLIC, v6("::ffff:8.8.8.8"));
    assertEquals(AddressClass.LOOPBACK, of("::ffff:127.0.0.1"), "the JDK's own IPv4 form of the mapped address");
    assertEquals(AddressClass.PRIVATE, of("64:ff9b::a00:1"), "NAT64 of 10.0.0.1");
    assertEquals(AddressClass.LOOPBACK, of("2002:7f00:1::"), "6to4 of 127.0.0.1");
    assertEquals(AddressClass.PRIVATE, of("::c0a8:101"), "IPv4-compatible 192.168.1.1");
  }

  @Test
  void privateAddressesNeedAllowPrivateAndMetadataIsNeverReachable() throws Exception {
    assertFalse(OutboundAddresses.allowed(InetAddress.getByName("127.0.0.1"), false));
    assertTrue(OutboundAddresses.allowed(InetAddress.getByName("127.0.0.1"), true));
    assertTrue(OutboundAddresses.allowed(InetAddress.getByName("8.8.8.8"), false));
    assertFalse(OutboundAddresses.allowed(InetAddress.getByName("169.254.169.254"), true));
    assertFalse(OutboundAddresses.allowed(InetAddress.getByName("fd00:ec2::254"), true));
  }

  @Test
  void baseUrlsWithFragmentsUserInfoQueriesOrOtherSchemesAreRefused() {
    assertNull(RemoteOpenAiEndpoint.checkBaseUrl("https://api.example.com/v1"));
    assertNull(RemoteOpenAiEndpoint.checkBaseUrl("http://127.0.0.1:8080/v1"));
    assertNull(RemoteOpenAiEndpoint.checkBaseUrl("http://[::1]:8080/v1"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("https://api.example.com/v1#/../admin"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("https://api.example.com/v1#"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("https://user:pw@api.example.com/v1"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("https://api.example.com/v1?key=x"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("ftp://api.example.com/v1"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("file:///etc/passwd"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("https://api.example.com/v1/../internal"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("https://api.example.com/v 1"));
    assertNotNull(RemoteOpenAiEndpoint.checkBaseUrl("/v1"));
    assertEquals("https://api.example.com:443", RemoteOpenAiEndpoint.origin("https://API.example.com/v1"));
  }
}
