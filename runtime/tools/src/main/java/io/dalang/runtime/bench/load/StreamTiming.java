package io.dalang.runtime.bench.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One streamed OpenAI answer's timing, as {@code vllm bench serve} defines it: fed the SSE body's bytes
 * as they arrive with the time of their arrival, it splits lines, parses each {@code data:} chunk and
 * notes when a chunk carries output ({@code choices[].delta.content}, {@code delta.reasoning_content} or
 * a completion's {@code choices[].text}, non-empty). TTFT is the first such chunk's time from sending,
 * each ITL the gap between two such chunks, and the output tokens the answer's
 * {@code usage.completion_tokens} where it has one, else the chunks with output. Pure: the caller
 * passes the clock, so tests feed it fixed times.
 */
public final class StreamTiming {
  private static final ObjectMapper JSON = Json.MAPPER;
  /** A line longer than this is not an SSE event this benchmark can measure; it fails the request. */
  static final int MAX_LINE = 1 << 20;

  private final long sentNanos;
  private byte[] line = new byte[256];
  private int lineLength;
  private long firstNanos = -1;
  private long lastNanos = -1;
  private int outputChunks;
  private int usageTokens = -1;
  private long[] gaps = new long[16];
  private int gapCount;
  private boolean done;
  private String error;

  public StreamTiming(long sentNanos) {
    this.sentNanos = sentNanos;
  }

  /** The next bytes of the body, all read at {@code nowNanos}. */
  public void onBytes(ByteBuffer bytes, long nowNanos) {
    while (bytes.hasRemaining() && error == null) {
      byte b = bytes.get();
      if (b == '\n') {
        int end = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
        onLine(line, end, nowNanos);
        lineLength = 0;
      } else if (lineLength == MAX_LINE) {
        error = "line_too_long";
      } else {
        if (lineLength == line.length) line = Arrays.copyOf(line, Math.min(MAX_LINE, line.length * 2));
        line[lineLength++] = b;
      }
    }
  }

  private void onLine(byte[] b, int length, long nowNanos) {
    // "data:" then an optional space; comments (": keep-alive"), event names and blank lines are skipped.
    if (length < 5 || b[0] != 'd' || b[1] != 'a' || b[2] != 't' || b[3] != 'a' || b[4] != ':') return;
    int start = length > 5 && b[5] == ' ' ? 6 : 5;
    int len = length - start;
    if (len == 6 && b[start] == '[' && b[start + 1] == 'D' && b[start + 5] == ']') {
      done = true;
      return;
    }
    JsonNode chunk;
    try {
      chunk = JSON.readTree(b, start, len);
    } catch (IOException e) {
      error = "bad_chunk";
      return;
    }
    if (chunk.has("error")) {
      error = "stream_error:" + errorCode(chunk);
      return;
    }
    JsonNode usage = chunk.path("usage").path("completion_tokens");
    if (usage.isInt()) usageTokens = usage.intValue();
    if (hasOutput(chunk)) onOutput(nowNanos);
  }

  private static boolean hasOutput(JsonNode chunk) {
    for (JsonNode c : chunk.path("choices")) {
      JsonNode delta = c.path("delta");
      if (nonEmpty(delta.path("content")) || nonEmpty(delta.path("reasoning_content")) || nonEmpty(c.path("text"))) return true;
    }
    return false;
  }

  private static boolean nonEmpty(JsonNode n) {
    return n.isTextual() && !n.textValue().isEmpty();
  }

  private void onOutput(long nowNanos) {
    if (firstNanos < 0) {
      firstNanos = nowNanos;
    } else {
      if (gapCount == gaps.length) gaps = Arrays.copyOf(gaps, gaps.length * 2);
      gaps[gapCount++] = nowNanos - lastNanos;
    }
    lastNanos = nowNanos;
    outputChunks++;
  }

  /** An error object's {@code code}, else its {@code type}, else {@code unknown}. */
  static String errorCode(JsonNode body) {
    JsonNode e = body.path("error");
    String code = e.path("code").asText("");
    if (code.isEmpty() || code.equals("null")) code = e.path("type").asText("");
    return code.isEmpty() ? "unknown" : code;
  }

  /** Whether {@code data: [DONE]} came. */
  public boolean done() {
    return done;
  }

  /** Why the stream failed ({@code stream_error:CODE}, {@code bad_chunk}, {@code line_too_long}); null if it did not. */
  public String error() {
    return error;
  }

  /** Time to the first output, in nanoseconds from sending; -1 if none came. */
  public long ttftNanos() {
    return firstNanos < 0 ? -1 : firstNanos - sentNanos;
  }

  /** Output tokens: the usage figure where the stream had one, else the chunks with output. */
  public int outputTokens() {
    return usageTokens >= 0 ? usageTokens : outputChunks;
  }

  public int outputChunks() {
    return outputChunks;
  }

  /** The gaps between consecutive chunks with output, in nanoseconds. */
  public long[] interTokenGaps() {
    return Arrays.copyOf(gaps, gapCount);
  }
}
