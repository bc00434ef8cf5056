package io.dalang.runtime.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** For commands that start a node only as a means (sweeps, simulations): its logs down to errors. */
public final class QuietLogs {
  private QuietLogs() {}

  public static void install() {
    var context = (LoggerContext) LoggerFactory.getILoggerFactory();
    for (var logger : context.getLoggerList()) {
      if (logger.getLevel() != null) logger.setLevel(Level.ERROR);
    }
    context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(Level.ERROR);
  }
}
