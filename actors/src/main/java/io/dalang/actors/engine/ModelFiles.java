package io.dalang.actors.engine;

import io.dalang.actors.slot.SlotSpec;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Where a slot's model file is on this node. A node that lacks it fetches it first (from the catalog's
 * blob store), which may take a while: called on a blocking dispatcher, never on an actor's thread.
 * Each {@link #acquire} is paired with one {@link #release} once the slot's engine is gone, so that the
 * node's model cache does not evict a blob an engine has open.
 */
public interface ModelFiles {
  /** The local model file of {@code spec}, present and of its digest; an IOException says why not (for the slot's failure). */
  Path acquire(SlotSpec spec) throws IOException;

  void release(SlotSpec spec);

  /** The file at the spec's path, as it is (the shared-path layout of pools that name a {@code model_path}). */
  ModelFiles AS_GIVEN = new ModelFiles() {
    @Override
    public Path acquire(SlotSpec spec) {
      return Path.of(spec.modelPath());
    }

    @Override
    public void release(SlotSpec spec) {}
  };
}
