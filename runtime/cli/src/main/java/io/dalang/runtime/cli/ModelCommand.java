package io.dalang.runtime.cli;

import io.dalang.engine.Digests;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dalang model generate}: writes a tiny llama-architecture GGUF with seeded random weights. */
@Command(name = "model", mixinStandardHelpOptions = true, description = "Model files.", subcommands = ModelCommand.Generate.class)
public final class ModelCommand {

  @Command(name = "generate", mixinStandardHelpOptions = true,
      description = "Write a tiny llama-architecture GGUF with seeded random weights (no download needed): a base model for sweeps and tests.")
  static final class Generate implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "FILE.gguf")
    Path out;

    @Option(names = "--layers", defaultValue = "4", description = "Transformer blocks (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--width", defaultValue = "256",
        description = "Embedding width (default: ${DEFAULT-VALUE}; a multiple of 256 lets K-quants apply to every weight)")
    int width;

    @Option(names = "--heads", defaultValue = "4", description = "Attention heads (default: ${DEFAULT-VALUE})")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "4", description = "Key/value heads (default: ${DEFAULT-VALUE})")
    int kvHeads;

    @Option(names = "--feed-forward", defaultValue = "768", description = "Feed-forward width (default: ${DEFAULT-VALUE})")
    int feedForward;

    @Option(names = "--context", defaultValue = "8192", description = "Trained context length (default: ${DEFAULT-VALUE})")
    int context;

    @Option(names = "--seed", defaultValue = "7", description = "Weights seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--type", defaultValue = "F32", description = "F32 or F16 (default: ${DEFAULT-VALUE})")
    String type;

    @Override
    public Integer call() throws Exception {
      GgmlType t;
      try {
        t = GgmlType.valueOf(type.toUpperCase(java.util.Locale.ROOT));
      } catch (IllegalArgumentException e) {
        t = null;
      }
      if (t != GgmlType.F32 && t != GgmlType.F16) {
        System.err.println("dalang model generate: --type must be F32 or F16");
        return 2;
      }
      TinyModel.Spec spec;
      try {
        spec = new TinyModel.Spec(seed, layers, width, heads, kvHeads, feedForward, context, t);
      } catch (IllegalArgumentException e) {
        System.err.println("dalang model generate: " + e.getMessage());
        return 2;
      }
      if (out.getParent() != null) Files.createDirectories(out.getParent());
      TinyModel.write(spec, out);
      System.out.printf("wrote %s (%d KiB, %d layers x %d wide, %s, sha256 %s)%n", out, Files.size(out) / 1024, layers, width, t,
          Digests.sha256(out));
      return 0;
    }
  }
}
