package io.dalang.runtime.admin;

import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An audit export as a chunked HTTP body: written on the blocking dispatcher in {@value #CHUNK}-byte
 * chunks into a queue of two, each waiting until the client took the one before, so no more than a
 * few chunks of an export are ever in memory whatever its size. A failure mid-way (the database, or a
 * client that stops reading for {@link #STALL}) aborts the response: the client sees a broken transfer,
 * never a clean end of a partial export.
 */
final class AuditExportStream {
  private static final Logger log = LoggerFactory.getLogger(AuditExportStream.class);
  static final int CHUNK = 64 * 1024;
  /** How long a client may leave a chunk unread before the export stops (and frees its database snapshot). */
  static final Duration STALL = Duration.ofSeconds(60);

  private AuditExportStream() {}

  /** What writes the export. */
  @FunctionalInterface
  interface Export {
    void writeTo(Writer out) throws IOException;
  }

  static HttpEntity.Chunked entity(ContentType type, Executor blocking, Export export) {
    Source<ByteString, NotUsed> body = Source.<ByteString>queue(2, OverflowStrategy.backpressure())
        .mapMaterializedValue(queue -> {
          blocking.execute(() -> run(queue, export));
          return NotUsed.getInstance();
        });
    return HttpEntities.createChunked(type, body);
  }

  private static void run(SourceQueueWithComplete<ByteString> queue, Export export) {
    try {
      var out = new OutputStreamWriter(new Chunks(queue), StandardCharsets.UTF_8);
      export.writeTo(out);
      out.close(); // offers the last chunk: only then is the export complete
      queue.complete();
    } catch (Exception e) {
      log.warn("audit export: stopped mid-way: {}", e.getMessage());
      queue.fail(e);
    }
  }

  /** Bytes in, one chunk offered to the queue (and waited for) whenever {@value #CHUNK} bytes are in. */
  private static final class Chunks extends OutputStream {
    private final SourceQueueWithComplete<ByteString> queue;
    private final byte[] buf = new byte[CHUNK];
    private int n;

    Chunks(SourceQueueWithComplete<ByteString> queue) {
      this.queue = queue;
    }

    @Override
    public void write(int b) throws IOException {
      if (n == buf.length) emit();
      buf[n++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        if (n == buf.length) emit();
        int k = Math.min(len, buf.length - n);
        System.arraycopy(b, off, buf, n, k);
        n += k;
        off += k;
        len -= k;
      }
    }

    @Override
    public void close() throws IOException {
      if (n > 0) emit();
    }

    private void emit() throws IOException {
      QueueOfferResult r;
      try {
        r = queue.offer(ByteString.fromArray(buf, 0, n)).toCompletableFuture().get(STALL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      } catch (Exception e) {
        throw new IOException("the client did not take the export (" + e + ")", e);
      }
      if (r != QueueOfferResult.enqueued()) throw new IOException("the client is gone (" + r + ")");
      n = 0;
    }
  }
}
