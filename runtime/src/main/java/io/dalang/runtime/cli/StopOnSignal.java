package io.dalang.runtime.cli;

import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * Ctrl-C and SIGTERM for a long-running command: the first runs Pekko's coordinated shutdown (the
 * slots drain within {@code dalang.node.drain-timeout}, the engines stop, the node leaves the cluster,
 * the journal closes last) and the command returns normally; a second one halts the JVM at once
 * ({@value #HALTED}). The JVM's own handling cannot do the second: once its shutdown hooks run it
 * ignores further signals.
 */
final class StopOnSignal {
  private static final Logger log = LoggerFactory.getLogger(StopOnSignal.class);
  /** The exit code of a stop by a second signal: 128 + SIGINT, as shells report an interrupted command. */
  static final int HALTED = 130;

  private StopOnSignal() {}

  static void install(ActorSystem<?> system) {
    var stopping = new AtomicBoolean();
    for (String name : new String[] {"INT", "TERM"}) {
      Signal.handle(new Signal(name), s -> {
        if (stopping.compareAndSet(false, true)) {
          log.info("SIG{}: stopping: running requests finish (up to dalang.node.drain-timeout), then the engines and the journal close; "
              + "a second signal stops at once", s.getName());
          CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.jvmExitReason());
        } else {
          log.warn("SIG{} again: stopping at once, without waiting for running requests", s.getName());
          Runtime.getRuntime().halt(HALTED);
        }
      });
    }
  }
}
