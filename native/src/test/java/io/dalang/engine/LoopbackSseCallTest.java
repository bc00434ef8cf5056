package io.dalang.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The blocking loopback client against a real server socket that writes HTTP/1.1 byte for byte: the
 * request it sends, chunked bodies cut at awkward places (inside a line, inside a chunk header, inside
 * a UTF-8 character), sized and close-delimited bodies, a connection lost mid-body, and a close while
 * a read waits.
 */
class LoopbackSseCallTest {
  private ServerSocket server;
  private URI base;

  @BeforeEach
  void listen() throws IOException {
    server = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    base = URI.create("http://127.0.0.1:" + server.getLocalPort());
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
  }

  /** What a call reported, in order. */
  static final class Recorder implements LoopbackSseCall.Handler {
    final List<String> lines = new CopyOnWriteArrayList<>();
    volatile int status = -1;
    volatile IOException failure;
    volatile boolean ended;
    final CountDownLatch done = new CountDownLatch(1);

    @Override
    public void status(int code) {
      status = code;
    }

    @Override
    public void line(String line) {
      lines.add(line);
    }

    @Override
    public void ended() {
      ended = true;
      done.countDown();
    }

    @Override
    public void failed(IOException e) {
      failure = e;
      done.countDown();
    }

    void await() throws InterruptedException {
      assertTrue(done.await(10, TimeUnit.SECONDS), "the call never finished");
    }
  }

  /** Accepts one connection, reads the request (head and Content-Length body), then runs {@code respond}. */
  private CompletableFuture<String> serveOnce(Responder respond) {
    return CompletableFuture.supplyAsync(() -> {
      try (Socket s = server.accept()) {
        InputStream in = s.getInputStream();
        var head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
          int c = in.read();
          if (c < 0) throw new EOFException("request head cut short");
          head.write(c);
        }
        String h = head.toString(StandardCharsets.US_ASCII);
        int length = Integer.parseInt(h.lines().filter(l -> l.toLowerCase().startsWith("content-length:")).findFirst()
            .orElseThrow().substring(15).trim());
        String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
        respond.respond(s.getOutputStream());
        return h + body;
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    });
  }

  interface Responder {
    void respond(OutputStream out) throws IOException;
  }

  private static void write(OutputStream out, String s) throws IOException {
    out.write(s.getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  private static void pause() {
    try {
      Thread.sleep(5); // lets the client read what was written so far on its own
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void sendsOnePostAndSplitsAChunkedBodyIntoLinesWhereverTheChunksAndReadsCut() throws Exception {
    byte[] euro = "€".getBytes(StandardCharsets.UTF_8); // three bytes, split across two chunks below
    var request = serveOnce(out -> {
      write(out, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
      write(out, "9\r\ndata: {\"a\r\n");
      pause();
      write(out, "8;ext=1\r\n\":1}\n\nda\r\n");
      pause();
      write(out, "0");
      pause();
      write(out, "b\r\nta: price ");
      out.write(euro, 0, 1);
      write(out, "\r\n");
      out.write(new byte[] {'4', '\r', '\n', euro[1], euro[2], '\n', '\n'});
      write(out, "\r\n");
      write(out, "e\r\ndata: [DONE]\n\n\r\n0\r\nX-Trailer: t\r\n\r\n");
    });
    var rec = new Recorder();
    byte[] body = "{\"prompt\":\"héllo\"}".getBytes(StandardCharsets.UTF_8);
    LoopbackSseCall.start(base, "/v1/completions", body, 2000, rec);
    rec.await();
    String sent = request.get(10, TimeUnit.SECONDS);

    assertTrue(sent.startsWith("POST /v1/completions HTTP/1.1\r\n"), sent);
    assertTrue(sent.contains("\r\nContent-Length: " + body.length + "\r\n"), sent);
    assertTrue(sent.contains("\r\nConnection: close\r\n"), sent);
    assertTrue(sent.endsWith("\r\n\r\n{\"prompt\":\"héllo\"}"), sent);
    assertNull(rec.failure);
    assertTrue(rec.ended);
    assertEquals(200, rec.status);
    assertEquals(List.of("data: {\"a\":1}", "", "data: price €", "", "data: [DONE]", ""), rec.lines);
  }

  @Test
  void aSizedErrorBodyArrivesWithItsStatus() throws Exception {
    String error = "{\"error\":{\"message\":\"bad\",\"code\":400}}";
    serveOnce(out -> write(out, "HTTP/1.1 400 Bad Request\r\nContent-Length: " + error.length() + "\r\n\r\n" + error));
    var rec = new Recorder();
    LoopbackSseCall.start(base, "/v1/chat/completions", new byte[0], 2000, rec);
    rec.await();
    assertEquals(400, rec.status);
    assertEquals(List.of(error), rec.lines);
    assertTrue(rec.ended);
  }

  @Test
  void aBodyWithoutLengthEndsWithTheConnection() throws Exception {
    serveOnce(out -> write(out, "HTTP/1.1 200 OK\r\n\r\ndata: x\n\ndata: [DONE]"));
    var rec = new Recorder();
    LoopbackSseCall.start(base, "/v1/completions", new byte[0], 2000, rec);
    rec.await();
    assertEquals(List.of("data: x", "", "data: [DONE]"), rec.lines);
    assertTrue(rec.ended);
  }

  @Test
  void aConnectionLostInsideAChunkIsAFailureNotAnEnd() throws Exception {
    serveOnce(out -> write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20\r\ndata: {\"partial\""));
    var rec = new Recorder();
    LoopbackSseCall.start(base, "/v1/completions", new byte[0], 2000, rec);
    rec.await();
    assertInstanceOf(EOFException.class, rec.failure);
    assertEquals(200, rec.status);
    assertTrue(rec.lines.isEmpty(), "a line cut short is never handed on: " + rec.lines);
  }

  @Test
  void closingTheCallEndsAReadThatWaitsForTheServer() throws Exception {
    var serverDone = new CountDownLatch(1);
    serveOnce(out -> {
      write(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: a\n\n\r\n");
      try {
        serverDone.await(10, TimeUnit.SECONDS); // then holds the connection open, writing nothing
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    var rec = new Recorder();
    var call = LoopbackSseCall.start(base, "/v1/completions", new byte[0], 2000, rec);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (rec.lines.size() < 2 && System.nanoTime() < deadline) Thread.onSpinWait();
    assertEquals(List.of("data: a", ""), rec.lines);
    call.close();
    rec.await();
    serverDone.countDown();
    assertNotNull(rec.failure, "a closed call fails; it never looks like a normal end");
  }

  @Test
  void aServerThatIsNotListeningIsAFailure() throws Exception {
    server.close();
    var rec = new Recorder();
    LoopbackSseCall.start(base, "/v1/completions", new byte[0], 2000, rec);
    rec.await();
    assertNotNull(rec.failure);
    assertEquals(-1, rec.status);
  }
}
