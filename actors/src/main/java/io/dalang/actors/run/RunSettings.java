package io.dalang.actors.run;

import com.typesafe.config.Config;
import io.dalang.actors.TimeSource;
import io.dalang.protocols.openai.RequestLimits;
import java.time.Duration;

/**
 * {@code dalang.runs} keys.
 *
 * @param resubmitInterval how often a run waiting in its pool's queue submits itself again, so that a
 *     pool admission actor that moved (and lost its queue) learns of it; idempotent otherwise
 * @param redispatchWait how long a run whose engine went away before it started waits for a Ready slot
 *     of its pool (its engine restarting) before it fails with {@code no_ready_slot}
 * @param limits {@code dalang.limits}: the caps every edge checks a request against before it becomes a run
 * @param time the clock a run's stall check, record and submission times read; {@link TimeSource#SYSTEM} but in tests
 * @param usageInEveryStream {@code dalang.http.stream-usage = always}: every stream's final chunk carries
 *     {@code usage}, as before Dalang honoured {@code stream_options.include_usage}; otherwise ({@code asked})
 *     only a stream that asked for it gets it, in a last chunk of its own, as OpenAI sends it
 */
public record RunSettings(Duration timeout, Duration stallTimeout, Duration resubmitInterval, int defaultMaxTokens,
    Duration redispatchWait, RequestLimits limits, TimeSource time, boolean usageInEveryStream) {

  public RunSettings(Duration timeout, Duration stallTimeout, Duration resubmitInterval, int defaultMaxTokens, Duration redispatchWait,
      RequestLimits limits, TimeSource time) {
    this(timeout, stallTimeout, resubmitInterval, defaultMaxTokens, redispatchWait, limits, time, false);
  }

  public static RunSettings from(Config c) {
    Config r = c.getConfig("dalang.runs");
    Config l = c.getConfig("dalang.limits");
    return new RunSettings(r.getDuration("timeout"), r.getDuration("stall-timeout"), r.getDuration("resubmit-interval"),
        r.getInt("default-max-tokens"), r.getDuration("redispatch-wait"),
        new RequestLimits(l.getInt("stop-sequences"), (int) l.getBytes("stop-bytes").longValue(), l.getInt("messages"),
            l.getBytes("prompt-bytes"), l.getInt("nesting-depth"), l.getBytes("body-bytes"), l.getInt("bytes-per-token"),
            l.getInt("choices"), l.getInt("tools"), l.getInt("embedding-inputs"), l.getInt("rerank-documents")),
        TimeSource.SYSTEM, streamUsage(c.getString("dalang.http.stream-usage")));
  }

  private static boolean streamUsage(String v) {
    return switch (v) {
      case "asked" -> false;
      case "always" -> true;
      default -> throw new IllegalArgumentException("dalang.http.stream-usage must be 'asked' or 'always', not '" + v + "'");
    };
  }

  public RunSettings withTime(TimeSource t) {
    return new RunSettings(timeout, stallTimeout, resubmitInterval, defaultMaxTokens, redispatchWait, limits, t, usageInEveryStream);
  }
}
