package io.dalang.runtime.cli;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ctrl-C and SIGTERM for a long-running command: the first runs Pekko's coordinated shutdown (the
 * slots drain within {@code dalang.node.drain-timeout}, the engines stop, the node leaves the cluster,
 * the journal closes last) and the command returns normally; a second one halts the JVM at once
 * ({@value #HALTED}). The JVM's own handling cannot do the second: once its shutdown hooks run it
 * ignores further signals.
 *
 * <p>{@code sun.misc.Signal} (module jdk.unsupported) is reached by reflection: named in the source it
 * draws a javac warning that no annotation silences.
 */
final class StopOnSignal {
  private static final Logger log = LoggerFactory.getLogger(StopOnSignal.class);
  /** The exit code of a stop by a second signal: 128 + SIGINT, as shells report an interrupted command. */
  static final int HALTED = 130;

  private StopOnSignal() {}

  static void install(ActorSystem<?> system) {
    var stopping = new AtomicBoolean();
    for (String name : new String[] {"INT", "TERM"}) {
      handle(name, () -> {
        if (stopping.compareAndSet(false, true)) {
          log.info("SIG{}: stopping: running requests finish (up to dalang.node.drain-timeout), then the engines and the journal close; "
              + "a second signal stops at once", name);
          CoordinatedShutdown.get(system).runAll(CoordinatedShutdown.jvmExitReason());
        } else {
          log.warn("SIG{} again: stopping at once, without waiting for running requests", name);
          Runtime.getRuntime().halt(HALTED);
        }
      });
    }
  }

  /** {@code Signal.handle(new Signal(name), s -> onSignal.run())}. */
  private static void handle(String name, Runnable onSignal) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Object h = Proxy.newProxyInstance(StopOnSignal.class.getClassLoader(), new Class<?>[] {handler}, (proxy, method, args) -> {
        if (method.getDeclaringClass() == Object.class) {
          return switch (method.getName()) {
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            default -> "StopOnSignal(" + name + ")";
          };
        }
        onSignal.run();
        return null;
      });
      signal.getMethod("handle", signal, handler).invoke(null, signal.getConstructor(String.class).newInstance(name), h);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.warn("cannot handle SIG{} ({}); the JVM's default applies: one clean stop, a second signal waits for it", name, e.toString());
    }
  }
}
