package io.dalang.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A connection runs what waits on it once when it closes, and forgets what stopped waiting. */
class ConnectionWatchTest {

  @Test
  void closingRunsEveryWaitingCallbackOnce() {
    var c = new ConnectionWatch.Connection();
    var a = new AtomicInteger();
    var b = new AtomicInteger();
    c.onClose(a::incrementAndGet);
    c.onClose(b::incrementAndGet);
    assertFalse(c.isClosed());
    c.close();
    c.close();
    assertTrue(c.isClosed());
    assertEquals(1, a.get());
    assertEquals(1, b.get());
    assertEquals(0, c.waiting());
  }

  @Test
  void aCallbackThatStoppedWaitingIsNotRunAndNotKept() {
    var c = new ConnectionWatch.Connection();
    var done = new AtomicInteger();
    for (int i = 0; i < 1000; i++) c.onClose(done::incrementAndGet).run(); // a keep-alive connection's finished requests
    assertEquals(0, c.waiting());
    c.close();
    assertEquals(0, done.get());
  }

  @Test
  void aCallbackRegisteredAfterTheCloseRunsAtOnce() {
    var c = new ConnectionWatch.Connection();
    c.close();
    var late = new AtomicInteger();
    c.onClose(late::incrementAndGet);
    assertEquals(1, late.get());
    assertEquals(0, c.waiting());
  }
}
