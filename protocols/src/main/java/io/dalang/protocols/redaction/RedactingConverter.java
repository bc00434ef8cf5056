package io.dalang.protocols.redaction;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.pattern.CompositeConverter;

/**
 * Logback conversion word {@code %redact(...)}: everything inside the parentheses (the message and the
 * stack trace, in Dalang's patterns) goes through {@link Redaction#current()} before it is written. It
 * sits in the layout, not in Dalang's own logging calls, so third-party lines (Pekko, Pekko HTTP, Slick,
 * HikariCP) are redacted too. Every Logback configuration Dalang ships declares it:
 *
 * <pre>{@code
 * <conversionRule conversionWord="redact" class="io.dalang.protocols.redaction.RedactingConverter"/>
 * ... <pattern>%d %-5level %logger{0} - %redact(%msg%n%ex)</pattern>
 * }</pre>
 *
 * <p>Keep {@code %ex} inside: Logback appends an unredacted stack trace to a pattern that has none.
 */
public final class RedactingConverter extends CompositeConverter<ILoggingEvent> {
  @Override
  protected String transform(ILoggingEvent event, String in) {
    return Redaction.current().redact(in);
  }
}
