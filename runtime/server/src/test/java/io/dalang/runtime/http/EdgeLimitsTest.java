package io.dalang.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dalang.runtime.http.EdgeLimits.Admission;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The connection caps: per client address and for the whole node, each freed by a closed connection. */
class EdgeLimitsTest {
  static EdgeLimits limits(int perAddress, int inAll) {
    return new EdgeLimits(Duration.ofSeconds(10), Duration.ofSeconds(75), perAddress, inAll, Duration.ofSeconds(15));
  }

  @Test
  void oneMoreConnectionThanAnAddressMayHoldIsOverItsCapAndAClosedOneFreesItsPlace() {
    var l = limits(2, 100);
    assertEquals(Admission.OPEN, l.open("10.0.0.1"));
    assertEquals(Admission.OPEN, l.open("10.0.0.1"));
    assertEquals(Admission.OVER_ADDRESS_CAP, l.open("10.0.0.1"));
    assertEquals(Admission.OPEN, l.open("10.0.0.2"), "another address is not held to the first one's count");
    l.release("10.0.0.1");
    l.release("10.0.0.1");
    assertEquals(Admission.OPEN, l.open("10.0.0.1"));
  }

  @Test
  void oneMoreConnectionThanTheNodeMayHoldIsOverTheNodeCapWhateverItsAddress() {
    var l = limits(256, 3);
    for (int i = 1; i <= 3; i++) assertEquals(Admission.OPEN, l.open("10.0.1." + i));
    assertEquals(Admission.OVER_NODE_CAP, l.open("10.0.1.4"));
    assertEquals(4, l.openConnections(), "a refused connection counts until it is closed");
    l.release("10.0.1.4");
    l.release("10.0.1.1");
    assertEquals(Admission.OPEN, l.open("10.0.1.5"));
    assertEquals(3, l.openConnections());
  }

  @Test
  void theAddressCapIsNamedWhenBothArePassed() {
    var l = limits(1, 1);
    assertEquals(Admission.OPEN, l.open("10.0.2.1"));
    assertEquals(Admission.OVER_ADDRESS_CAP, l.open("10.0.2.1"));
  }

  @Test
  void capsBelowOneAreRefusedAtStart() {
    assertThrows(IllegalArgumentException.class, () -> limits(256, 0));
    assertThrows(IllegalArgumentException.class, () -> limits(0, 4096));
  }
}
