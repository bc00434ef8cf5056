package io.dalang.protocols.redaction;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import ch.qos.logback.core.OutputStreamAppender;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The converter inside a real Logback layout, in its own logger context. */
class RedactingConverterTest {

  static String logThroughPattern(String pattern, java.util.function.Consumer<ch.qos.logback.classic.Logger> logging) throws Exception {
    var ctx = new LoggerContext();
    ctx.setMDCAdapter(new LogbackMDCAdapter());
    var configurator = new JoranConfigurator();
    configurator.setContext(ctx);
    configurator.doConfigure(new ByteArrayInputStream(("<configuration><conversionRule conversionWord=\"redact\" "
        + "class=\"io.dalang.protocols.redaction.RedactingConverter\"/></configuration>").getBytes(StandardCharsets.UTF_8)));
    var encoder = new PatternLayoutEncoder();
    encoder.setContext(ctx);
    encoder.setPattern(pattern);
    encoder.start();
    var out = new ByteArrayOutputStream();
    var appender = new OutputStreamAppender<ILoggingEvent>();
    appender.setContext(ctx);
    appender.setEncoder(encoder);
    appender.setOutputStream(out);
    appender.start();
    var logger = ctx.getLogger("test");
    logger.addAppender(appender);
    logging.accept(logger);
    ctx.stop();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void redactsTheMessageAndTheStackTraceOfEveryLine() throws Exception {
    String out = logThroughPattern("%-5level %logger{0} - %redact(%msg%n%ex)", log -> {
      log.info("request from {} with Authorization: Bearer {}", "jane@example.com", "abcdefgh12345678");
      log.error("upstream failed", new IllegalStateException("card 4111 1111 1111 1111 declined",
          new RuntimeException("x-api-key: sk-abcdefghijklmnopqrstuvwxyz")));
    });
    assertFalse(out.contains("jane@example.com"), out);
    assertFalse(out.contains("abcdefgh12345678"), out);
    assertFalse(out.contains("4111 1111 1111 1111"), out);
    assertFalse(out.contains("sk-abcdefghijklmnopqrstuvwxyz"), out);
    assertTrue(out.contains("INFO  test - request from [email] with Authorization: Bearer [redacted]"), out);
    assertTrue(out.contains("java.lang.IllegalStateException: card [card] declined"), out);
    assertTrue(out.contains("Caused by: java.lang.RuntimeException: x-api-key: [redacted]"), out);
    assertTrue(out.contains("at io.dalang.protocols.redaction.RedactingConverterTest"), "stack frames are kept: " + out);
  }

  @Test
  void aPatternWithTheStackTraceInsideGetsNoSecondUnredactedOne() throws Exception {
    String out = logThroughPattern("%redact(%msg%n%ex)", log -> log.warn("x", new RuntimeException("password=hunter2hunter2")));
    assertFalse(out.contains("hunter2hunter2"), out);
  }
}
