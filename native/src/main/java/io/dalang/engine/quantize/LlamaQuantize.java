package io.dalang.engine.quantize;

import io.dalang.engine.Digests;
import io.dalang.engine.EngineException;
import io.dalang.gguf.GgufReader;
import io.dalang.gguf.TensorInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Makes quantized variants of a GGUF model with llama.cpp's own {@code llama-quantize} (built next to
 * llama-server by the engine provisioner). A variant is made once per (base digest, type, quantizer
 * digest): the output file's name carries all three, so a second sweep reuses it and a new base model
 * or a rebuilt quantizer makes a new one.
 */
public final class LlamaQuantize {
  /** The quantization types llama-quantize accepts by name (its {@code --help} list, the common ones). */
  private static final Pattern TYPE = Pattern.compile("[A-Z0-9_]{2,16}");

  private final Path binary;
  private final String binaryDigest;

  public LlamaQuantize(Path binary) throws IOException {
    if (!Files.isExecutable(binary)) throw new EngineException("llama-quantize not found or not executable: " + binary);
    this.binary = binary;
    this.binaryDigest = Digests.sha256(binary);
  }

  public String binaryDigest() {
    return binaryDigest;
  }

  /**
   * One variant made: where it is, its digest, and how many tensors of each type it holds.
   *
   * @param reused whether an earlier identical quantization was reused
   */
  public record Variant(String type, Path path, String digest, long bytes, Map<String, Integer> tensorTypes, boolean reused) {}

  /**
   * Quantizes {@code base} to {@code type} into {@code outDir} (or reuses the earlier result).
   *
   * @throws EngineException when the type is unknown to llama-quantize or it fails, with its last output lines
   */
  public Variant quantize(Path base, String baseDigest, String type, Path outDir, int threads) throws IOException {
    String t = type.trim().toUpperCase(java.util.Locale.ROOT);
    if (!TYPE.matcher(t).matches()) throw new EngineException("not a quantization type: '" + type + "'");
    Files.createDirectories(outDir);
    String stem = base.getFileName().toString().replaceFirst("\\.gguf$", "");
    Path out = outDir.resolve(stem + "." + t + "." + baseDigest.substring(0, 12) + "-" + binaryDigest.substring(0, 8) + ".gguf");
    boolean reused = Files.isRegularFile(out);
    if (!reused) {
      Path tmp = outDir.resolve(out.getFileName() + ".tmp");
      Path log = outDir.resolve(out.getFileName() + ".log");
      var cmd = List.of(binary.toString(), base.toString(), tmp.toString(), t, String.valueOf(Math.max(1, threads)));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      try {
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
          p.destroyForcibly();
          throw new EngineException("llama-quantize " + t + " did not finish in 10 minutes; log " + log);
        }
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new EngineException("interrupted while quantizing to " + t);
      }
      if (p.exitValue() != 0 || !Files.isRegularFile(tmp)) {
        Files.deleteIfExists(tmp);
        throw new EngineException("llama-quantize " + t + " failed (exit " + p.exitValue() + "): " + tail(log));
      }
      Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }
    return new Variant(t, out, Digests.sha256(out), Files.size(out), tensorTypes(out), reused);
  }

  /**
   * How many tensors of each ggml type a model file holds; empty when the file uses a type this
   * reader does not know (e.g. the IQ quants), which the sweep then reports without the breakdown.
   */
  public static Map<String, Integer> tensorTypes(Path model) throws IOException {
    var counts = new TreeMap<String, Integer>();
    try {
      for (TensorInfo ti : GgufReader.read(model).tensors()) counts.merge(ti.type().name(), 1, Integer::sum);
    } catch (io.dalang.gguf.GgufFormatException e) {
      return Map.of();
    }
    return counts;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log);
      var last = new ArrayList<>(lines.subList(Math.max(0, lines.size() - 3), lines.size()));
      return String.join(" | ", last);
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
