package io.dalang.actors.engine;

import io.dalang.actors.slot.SlotSpec;
import io.dalang.engine.Engine;
import java.nio.file.Path;

/**
 * Makes the engine a slot's spec asks for. May block (it may have to provision a llama-server build
 * first); called on a blocking dispatcher, never on an actor's thread.
 */
@FunctionalInterface
public interface EngineFactory {
  Engine create(SlotSpec spec, Path workDir);
}
