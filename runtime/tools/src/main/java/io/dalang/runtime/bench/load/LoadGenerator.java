package io.dalang.runtime.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.runtime.http.HttpClients;
import io.dalang.runtime.http.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Phaser;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Sends a {@link LoadSpec}'s requests to an OpenAI-compatible {@code /chat/completions} and measures
 * them ({@link LoadReport}). Built to hold many thousands of streams at little CPU: the JDK's
 * {@link HttpClient} over HTTP/1.1 with one selector thread and two worker threads, and a body
 * subscriber per request that parses the SSE bytes where they are delivered ({@link StreamTiming}); no
 * thread waits on a stream. The closed loop chains each request's next on its completion; the open
 * loop sends at Poisson times from the caller's thread.
 */
public final class LoadGenerator {
  private static final ObjectMapper JSON = Json.MAPPER;
  /** The error body kept to name a failure's code; the rest is discarded. */
  private static final int MAX_ERROR_BODY = 64 * 1024;
  private static final String[] WORDS = ("the a of and to in is was he for it with as his on be at by had are but from or have an they which one you were "
      + "all her she there would their we him been has when who will no more if out so up said what its about than into them can only other time new "
      + "some could these two may first then do any like my now over such our man me even most made after also did many before must through back years "
      + "where much your way well down should because each just those people how too little state good very make world still own see men work long get "
      + "here between both life being under never day same another know while last might us great old year off come since against go came right used "
      + "take three").split(" ");

  private final HttpClient client;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  public LoadGenerator(HttpClient client) {
    this.client = client;
  }

  /**
   * A client for load: HTTP/1.1 (a connection per stream in flight, kept alive and reused), a small
   * fixed executor for the callbacks, so that 10,000 streams cost two threads beside the selector.
   */
  public static HttpClient newClient() {
    var pool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "bench-load-http");
      t.setDaemon(true);
      return t;
    });
    return HttpClients.builder().executor(pool).build();
  }

  /** Requests sent and not yet answered, now. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Runs {@code spec} to its end: every request sent has completed, failed or timed out. */
  public LoadReport run(LoadSpec spec) throws InterruptedException {
    var run = new Run(spec);
    maxInFlight.set(0);
    long start = System.nanoTime();
    if (spec.rate() > 0) run.openLoop(start);
    else for (int i = 0; i < spec.concurrency(); i++) run.chain();
    run.phaser.arriveAndAwaitAdvance();
    double wall = (System.nanoTime() - start) / 1e9;
    var errors = new LinkedHashMap<String, Long>();
    run.errors.forEach((k, v) -> errors.put(k, v.sum()));
    return new LoadReport(spec, run.ok.get(), errors, run.tokens.sum(), wall, maxInFlight.get(), run.ttft, run.tpot, run.itl, run.e2e);
  }

  private final class Run {
    final LoadSpec spec;
    final URI uri;
    final long deadline;
    final AtomicInteger claimed = new AtomicInteger();
    final Phaser phaser = new Phaser(1);
    final AtomicInteger ok = new AtomicInteger();
    final LongAdder tokens = new LongAdder();
    final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    final LatencyHistogram ttft = new LatencyHistogram();
    final LatencyHistogram tpot = new LatencyHistogram();
    final LatencyHistogram itl = new LatencyHistogram();
    final LatencyHistogram e2e = new LatencyHistogram();

    Run(LoadSpec spec) {
      this.spec = spec;
      String base = spec.baseUrl().toString();
      this.uri = URI.create((base.endsWith("/") ? base : base + "/") + "chat/completions");
      this.deadline = spec.duration().isZero() ? Long.MAX_VALUE : System.nanoTime() + spec.duration().toNanos();
    }

    /** The index of the next request to send, or -1 when the run has sent all it should. */
    int claim() {
      if (System.nanoTime() >= deadline) return -1;
      int i = claimed.getAndIncrement();
      return spec.requests() > 0 && i >= spec.requests() ? -1 : i;
    }

    /** Closed loop: one request, and when it ends the next, until the run is over. */
    void chain() {
      int i = claim();
      if (i < 0) return;
      send(i, this::chain);
    }

    void openLoop(long start) throws InterruptedException {
      var arrivals = new Arrivals(spec.rate(), spec.seed());
      Semaphore cap = spec.concurrency() > 0 ? new Semaphore(spec.concurrency()) : null;
      long next = start;
      while (true) {
        next += arrivals.nextGapNanos();
        long wait;
        while ((wait = next - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
        if (cap != null) cap.acquire();
        int i = claim();
        if (i < 0) {
          if (cap != null) cap.release();
          return;
        }
        send(i, cap == null ? null : cap::release);
      }
    }

    /**
     * Sends request {@code index}; when it has ended runs {@code after} (the closed loop's next request)
     * before the request leaves the phaser, so that the run is never seen to have nothing in flight
     * between one request and the next.
     */
    void send(int index, Runnable after) {
      phaser.register();
      int n = inFlight.incrementAndGet();
      maxInFlight.accumulateAndGet(n, Math::max);
      var b = HttpRequest.newBuilder(uri).timeout(spec.timeout()).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body(index)));
      if (spec.apiKey() != null && !spec.apiKey().isEmpty()) b.header("Authorization", "Bearer " + spec.apiKey());
      long sent = System.nanoTime();
      var reader = new AtomicReader();
      client.sendAsync(b.build(), info -> reader.set(new Reader(info.statusCode(), sent, spec.stream())))
          .orTimeout(spec.timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .handle((resp, e) -> {
            try {
              if (e != null) {
                reader.cancel();
                error(kind(e));
              } else {
                record(resp.body(), sent);
              }
            } finally {
              inFlight.decrementAndGet();
              try {
                if (after != null) after.run();
              } finally {
                phaser.arriveAndDeregister();
              }
            }
            return null;
          });
    }

    byte[] body(int index) {
      var random = new SplittableRandom(spec.seed() * 1_000_003 + index);
      int words = spec.promptTokens().draw(random);
      var prompt = new StringBuilder(words * 6);
      for (int w = 0; w < words; w++) prompt.append(w == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
      var m = new LinkedHashMap<String, Object>();
      m.put("model", spec.model());
      m.put("messages", List.of(Map.of("role", "user", "content", prompt.toString())));
      m.put("max_tokens", spec.maxTokens().draw(random));
      m.put("stream", spec.stream());
      if (spec.stream()) m.put("stream_options", Map.of("include_usage", true));
      try {
        return JSON.writeValueAsBytes(m);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void record(Reader r, long sent) {
      long e2eNanos = r.endNanos - sent;
      if (r.status != 200) {
        error("http_" + r.status + ":" + errorCode(r.body.toByteArray()));
        return;
      }
      if (!spec.stream()) {
        JsonNode answer;
        try {
          answer = JSON.readTree(r.body.toByteArray());
        } catch (IOException ex) {
          error("bad_body");
          return;
        }
        ok.incrementAndGet();
        tokens.add(answer.path("usage").path("completion_tokens").asInt(0));
        e2e.recordNanos(e2eNanos);
        return;
      }
      StreamTiming t = r.timing;
      if (t.error() != null) error(t.error());
      else if (!t.done()) error("incomplete_stream");
      else if (t.outputChunks() == 0) error("no_output");
      else {
        ok.incrementAndGet();
        int out = t.outputTokens();
        tokens.add(out);
        ttft.recordNanos(t.ttftNanos());
        e2e.recordNanos(e2eNanos);
        if (out > 1) tpot.recordNanos((e2eNanos - t.ttftNanos()) / (out - 1));
        for (long gap : t.interTokenGaps()) itl.recordNanos(gap);
      }
    }

    void error(String kind) {
      errors.computeIfAbsent(kind, k -> new LongAdder()).increment();
    }
  }

  /** An error body's OpenAI code (or type), or {@code unknown}. */
  static String errorCode(byte[] body) {
    try {
      return StreamTiming.errorCode(JSON.readTree(body));
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  /** How a request that got no answer failed: timeout, connect_timeout, connection_refused, connection_reset, ... */
  static String kind(Throwable e) {
    Throwable c = e;
    while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException) && c.getCause() != null) c = c.getCause();
    if (c instanceof HttpConnectTimeoutException) return "connect_timeout";
    if (c instanceof HttpTimeoutException || c instanceof TimeoutException) return "timeout";
    if (c instanceof ConnectException) return "connection_refused";
    String msg = String.valueOf(c.getMessage()).toLowerCase(java.util.Locale.ROOT);
    if (msg.contains("reset")) return "connection_reset";
    if (msg.contains("closed") || msg.contains("eof") || msg.contains("header parser received no bytes")) return "connection_closed";
    if (msg.contains("too many open files")) return "too_many_open_files";
    return c.getClass().getSimpleName();
  }

  /** Holds the reader once the response's status is known, so that a timeout can cancel its body. */
  private static final class AtomicReader {
    private volatile Reader reader;
    private volatile boolean cancelled;

    Reader set(Reader r) {
      reader = r;
      if (cancelled) r.cancel();
      return r;
    }

    void cancel() {
      cancelled = true;
      Reader r = reader;
      if (r != null) r.cancel();
    }
  }

  /** The body of one answer: an SSE stream fed to {@link StreamTiming}, or a whole (or error) body kept in memory. */
  private static final class Reader implements HttpResponse.BodySubscriber<Reader> {
    final int status;
    final boolean sse;
    final StreamTiming timing;
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final CompletableFuture<Reader> done = new CompletableFuture<>();
    volatile Flow.Subscription subscription;
    volatile boolean cancelled;
    long endNanos;

    Reader(int status, long sent, boolean stream) {
      this.status = status;
      this.sse = stream && status == 200;
      this.timing = new StreamTiming(sent);
    }

    void cancel() {
      cancelled = true;
      Flow.Subscription s = subscription;
      if (s != null) s.cancel();
    }

    @Override
    public CompletionStage<Reader> getBody() {
      return done;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (cancelled) s.cancel();
      else s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      long now = System.nanoTime();
      for (ByteBuffer b : items) {
        if (sse) {
          timing.onBytes(b, now);
        } else if (body.size() < (status == 200 ? StreamTiming.MAX_LINE : MAX_ERROR_BODY)) {
          byte[] a = new byte[b.remaining()];
          b.get(a);
          body.write(a, 0, a.length);
        }
      }
    }

    @Override
    public void onError(Throwable t) {
      done.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      endNanos = System.nanoTime();
      done.complete(this);
    }
  }
}
