package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.dalang.protocols.error.ErrorCode;
import io.dalang.protocols.generation.GenerationEvent;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A provider's call against a plain HTTP listener on loopback: the bounds and the address check. */
class RemoteOpenAiEndpointTest {
  HttpServer server;
  final AtomicInteger requests = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      requests.incrementAndGet();
      ex.getRequestBody().readAllBytes();
      ex.getResponseHeaders().add("Content-Type", "text/event-stream");
      ex.sendResponseHeaders(200, 0);
      try (var out = ex.getResponseBody()) {
        // One line longer than a provider's SSE line may be, never ended.
        byte[] chunk = "x".repeat(64 * 1024).getBytes(StandardCharsets.US_ASCII);
        out.write("data: ".getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < (RemoteSseCall.MAX_LINE / chunk.length) + 2; i++) out.write(chunk);
      } catch (java.io.IOException closedByTheReader) {
        // the reader gave up: what is tested
      }
    });
    server.createContext("/slow", ex -> {
      requests.incrementAndGet();
      ex.getRequestBody().readAllBytes();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      ex.sendResponseHeaders(500, -1);
      ex.close();
    });
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server.start();
  }

  final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

  @AfterEach
  void stop() {
    release.countDown();
    server.stop(0);
    RemoteOpenAiEndpoint.maxStreams(RemoteSseCall.DEFAULT_MAX_STREAMS);
  }

  private GenerationEvent.Failed run(boolean allowPrivate) throws Exception {
    var failed = new CompletableFuture<GenerationEvent.Failed>();
    RemoteOpenAiEndpoint.generate("p1", "http://127.0.0.1:" + server.getAddress().getPort() + "/v1", "m", "k-123456789", allowPrivate,
        Duration.ofSeconds(10), EngineContract.text("r1", "hi", 4, null), e -> {
          if (e instanceof GenerationEvent.Failed f) failed.complete(f);
        });
    return failed.get(20, TimeUnit.SECONDS);
  }

  @Test
  void aLineLongerThanTheBoundFailsTheCallWithoutEchoingIt() throws Exception {
    var f = run(true);
    assertEquals(ErrorCode.ENGINE_FAILED, f.error().code());
    assertFalse(f.error().message().contains("xxxx"), f.error().message());
  }

  @Test
  void aLoopbackProviderIsNotConnectedToWithoutAllowPrivate() throws Exception {
    var f = run(false);
    assertEquals(ErrorCode.ENGINE_UNAVAILABLE, f.error().code());
    assertTrue(f.error().message().contains("loopback"), f.error().message());
    assertEquals(0, requests.get());
  }

  @Test
  void beyondTheNodesStreamCapACallFailsAtOnceAsCapacityExhaustedWithoutAThreadOrAConnection() throws Exception {
    RemoteOpenAiEndpoint.maxStreams(2);
    String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/slow/v1";
    var ends = new java.util.ArrayList<CompletableFuture<GenerationEvent.Failed>>();
    for (int i = 0; i < 3; i++) {
      var failed = new CompletableFuture<GenerationEvent.Failed>();
      RemoteOpenAiEndpoint.generate("p1", base, "m", "", true, Duration.ofSeconds(10), EngineContract.text("r" + i, "hi", 4, null), e -> {
        if (e instanceof GenerationEvent.Failed f) failed.complete(f);
      });
      ends.add(failed);
    }
    var third = ends.get(2).get(5, TimeUnit.SECONDS);
    assertEquals(ErrorCode.CAPACITY_EXHAUSTED, third.error().code());
    assertTrue(third.error().message().contains("remote-streams-max"), third.error().message());
    assertFalse(ends.get(0).isDone() || ends.get(1).isDone(), "the two streams under the cap are still open");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (requests.get() < 2 && System.nanoTime() < deadline) Thread.sleep(20);
    assertEquals(2, requests.get(), "the refused call never connected");
    release.countDown();
    assertEquals(ErrorCode.ENGINE_FAILED, ends.get(0).get(10, TimeUnit.SECONDS).error().code());
    ends.get(1).get(10, TimeUnit.SECONDS);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (RemoteSseCall.openStreams() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
    assertEquals(0, RemoteSseCall.openStreams(), "every ended stream gave its place back");
  }
}
