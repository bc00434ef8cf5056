package io.dalang.actors.engine;

import io.dalang.actors.slot.SlotSpec;
import io.dalang.engine.Engine;
import io.dalang.protocols.node.Device;
import java.nio.file.Path;

/**
 * Makes the engine a slot's spec asks for. May block (it may have to provision a llama-server build
 * first); called on a blocking dispatcher, never on an actor's thread.
 */
@FunctionalInterface
public interface EngineFactory {
  Engine create(SlotSpec spec, Path workDir);

  /**
   * The engine for {@code spec} on {@code device}: a factory that can bind an engine to a GPU does so
   * here (the device's backend, its index, the spec's {@code gpuLayers}); by default the device is not
   * used.
   */
  default Engine create(SlotSpec spec, Device device, Path workDir) {
    return create(spec, workDir);
  }
}
