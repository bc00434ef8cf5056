package io.dalang.runtime.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.junit.jupiter.api.Test;

/**
 * The edge sheds a burst before routing it: with the one route thread held and two requests waiting for
 * it, more requests get {@code 429 capacity_exhausted} at once (the work they skip is the route's), the
 * probes are never shed, and the waiting ones are answered once the thread is free.
 */
class RoutingBacklogTest {

  @Test
  void requestsBeyondTheRoutingBacklogAreRefusedAtOnceAndProbesAreNot() throws Exception {
    var system = ActorSystem.create(Behaviors.empty(), "backlog");
    var routeThread = Executors.newSingleThreadExecutor();
    var held = new CountDownLatch(1);
    var started = new CountDownLatch(1);
    try {
      var limits = new EdgeLimits(Duration.ofSeconds(10), Duration.ofSeconds(75), 256, 4096, Duration.ofSeconds(15), 2);
      org.apache.pekko.japi.function.Function<org.apache.pekko.http.javadsl.model.HttpRequest, java.util.concurrent.CompletionStage<org.apache.pekko.http.javadsl.model.HttpResponse>>
          handler = r -> {
            if (r.getUri().path().equals("/hold")) {
              started.countDown();
              held.await(20, TimeUnit.SECONDS);
            }
            return CompletableFuture.completedFuture(org.apache.pekko.http.javadsl.model.HttpResponse.create().withEntity(HttpEntities.create("ok")));
          };
      var binding = Http.get(system).newServerAt("127.0.0.1", 0).bindFlow(ConnectionWatch.wrap(handler, limits, routeThread))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      String base = "http://127.0.0.1:" + binding.localAddress().getPort();
      var http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      var hold = http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/hold")).build(), HttpResponse.BodyHandlers.ofString());
      assertTrue(started.await(10, TimeUnit.SECONDS), "the route thread is held");
      var waiting = new ArrayList<CompletableFuture<java.net.http.HttpResponse<String>>>();
      for (int i = 0; i < 2; i++) {
        waiting.add(http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/w" + i)).build(), HttpResponse.BodyHandlers.ofString()));
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (limits.routingBacklog() < 2 && System.nanoTime() < deadline) Thread.sleep(10);
      assertEquals(2, limits.routingBacklog());

      long t0 = System.nanoTime();
      var refused = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"m\"}")).build(), HttpResponse.BodyHandlers.ofString());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(429, refused.statusCode(), refused.body());
      assertTrue(refused.body().contains("capacity_exhausted") && refused.body().contains("max-routing-backlog"), refused.body());
      assertEquals("1", refused.headers().firstValue("retry-after").orElse(""));
      assertTrue(ms < 5_000, "refused without waiting for the route thread: " + ms + " ms");

      var probe = http.sendAsync(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
      held.countDown();
      assertEquals(200, hold.get(10, TimeUnit.SECONDS).statusCode());
      for (var w : waiting) assertEquals(200, w.get(10, TimeUnit.SECONDS).statusCode(), "the waiting requests are routed");
      assertEquals(200, probe.get(10, TimeUnit.SECONDS).statusCode(), "a probe is never shed");
      assertEquals(0, limits.routingBacklog());
      binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } finally {
      held.countDown();
      routeThread.shutdownNow();
      system.terminate();
    }
  }
}
