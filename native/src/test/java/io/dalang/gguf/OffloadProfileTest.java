package io.dalang.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OffloadProfileTest {
  @TempDir static Path dir;

  static GgufFile model() throws Exception {
    Path f = dir.resolve("demo.gguf");
    if (!f.toFile().exists()) TinyModel.write(TinyModel.DEMO, f);
    return GgufReader.read(f);
  }

  static OffloadProfile demo(int ctx, int parallel) throws Exception {
    return OffloadProfile.of(model(), ctx, parallel, 64L << 20);
  }

  @Test
  void theBlocksAndTheOutputHeadAreTheOffloadableLayers() throws Exception {
    var gguf = model();
    var p = OffloadProfile.of(gguf, 512, 2, 64L << 20);
    assertEquals(TinyModel.DEMO.layers() + 1, p.layers(), "two blocks and the output head, as llama.cpp counts them (3/3)");
    var whole = MemoryEstimator.estimate(gguf, 512, 2, 64L << 20);
    long tokenEmbeddings = gguf.tensors().stream().filter(t -> t.name().startsWith("token_embd")).mapToLong(TensorInfo::bytes).sum();
    // Everything but the token embeddings (which llama.cpp keeps on the CPU) is on the device with every layer.
    assertEquals(whole.totalBytes() - tokenEmbeddings, p.deviceBytes(p.layers()));
    assertEquals(p.deviceBytes(p.layers()), p.deviceBytes(OffloadProfile.ALL_LAYERS));
    assertEquals(0, p.deviceBytes(0));
  }

  @Test
  void moreLayersNeverTakeLessMemoryAndTheFitIsTheMostThatFits() throws Exception {
    var p = demo(2048, 4);
    for (int n = 1; n <= p.layers(); n++) assertTrue(p.deviceBytes(n) > p.deviceBytes(n - 1));
    for (int n = 0; n <= p.layers(); n++) {
      long mib = p.deviceMib(n);
      assertEquals(n, p.layersWithin(mib), "exactly the memory of n layers fits n");
      if (n > 0) assertEquals(n - 1, p.layersWithin(mib - 1), "a MiB less fits one layer less");
    }
    assertEquals(p.layers(), p.layersWithin(Long.MAX_VALUE / 2));
    assertEquals(0, p.layersWithin(0));
  }

  @Test
  void aModelWithTiedEmbeddingsCarriesThemAgainAsItsOutputHead() throws Exception {
    var g = model();
    var tied = new GgufFile(g.version(), g.metadata(), g.tensors().stream().filter(t -> !t.name().equals("output.weight")).toList(),
        g.dataOffset());
    var p = OffloadProfile.of(tied, 512, 1, 0);
    long norm = bytes(g, "output_norm.weight");
    long embeddings = bytes(g, "token_embd.weight");
    assertEquals(norm + embeddings, p.layerBytes()[p.layers() - 1], "llama.cpp loads token_embd again as the output head on the device");
    var own = OffloadProfile.of(g, 512, 1, 0);
    assertEquals(norm + bytes(g, "output.weight"), own.layerBytes()[own.layers() - 1]);
  }

  private static long bytes(GgufFile g, String name) {
    return g.tensors().stream().filter(t -> t.name().equals(name)).mapToLong(TensorInfo::bytes).sum();
  }
}
