package io.dalang.runtime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.engine.Digests;
import io.dalang.gguf.GgmlType;
import io.dalang.gguf.TinyModel;
import io.dalang.protocols.model.ModelRef;
import io.dalang.runtime.http.Json;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalang model add | list | show | rm}: the model catalog of a running node, through its admin API
 * ({@code /admin/v1/models}; a platform-admin key to change it, an operator key to read it), and
 * {@code dalang model generate}, which writes a tiny llama-architecture GGUF with seeded random weights.
 */
@Command(name = "model", mixinStandardHelpOptions = true, description = "The model catalog, and model files.",
    subcommands = {ModelCommand.Add.class, ModelCommand.List.class, ModelCommand.Show.class, ModelCommand.Remove.class, ModelCommand.Generate.class})
public final class ModelCommand {

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = {"Add a version of a model to the catalog from a file on the node's machine, an http(s) URL or hf://ORG/REPO/FILE.gguf.",
          "The node copies or downloads it (resuming a cut transfer), checks its sha256 and GGUF header, and only then lists the version.",
          "GPU nodes pull it from the catalog when a pool's replica needs it."})
  static final class Add extends AdminCall {
    @Parameters(index = "0", paramLabel = "NAME", description = "The model's name (what clients send as 'model')")
    String name;

    @Option(names = "--from", required = true, paramLabel = "PATH|URL", description = "A file, an http(s) URL or hf://ORG/REPO[@REV]/FILE.gguf")
    String from;

    @Option(names = "--sha256", description = "The blob's expected SHA-256; a different one fails the import")
    String sha256;

    @Option(names = "--version", paramLabel = "VERSION", description = "The version's name (default: v<n>)")
    String version;

    @Option(names = "--label", paramLabel = "KEY=VALUE", description = "A label on the version (repeatable)")
    java.util.Map<String, String> labels;

    @Option(names = "--parent", description = "What this version was derived from, e.g. \"Q4_K_M of name@v1\"")
    String parent;

    @Option(names = "--allow-private", description = "Let the URL be on a loopback, link-local or private address (audited)")
    boolean allowPrivate;

    @Option(names = "--no-wait", description = "Print the import's id and return without waiting for it")
    boolean noWait;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      String source = from.contains("://") ? from : Path.of(from).toAbsolutePath().normalize().toString();
      var body = new java.util.LinkedHashMap<String, Object>();
      body.put("name", name);
      body.put("from", source);
      if (sha256 != null) body.put("sha256", sha256);
      if (version != null) body.put("version", version);
      if (labels != null) body.put("labels", labels);
      if (parent != null) body.put("parent", parent);
      if (allowPrivate) body.put("allow_private", true);
      JsonNode imp = send("POST", "/admin/v1/models", body);
      String id = imp.path("id").asText();
      if (noWait) {
        out.println("import " + id + " started; follow it with GET /admin/v1/model-imports/" + id);
        return OK;
      }
      String shown = "";
      // A progress bar only where someone watches it; a log or a pipe gets the result line alone.
      boolean terminal = System.console() != null;
      while (!imp.path("status").asText().equals("done") && !imp.path("status").asText().equals("failed")) {
        String line = progress(imp);
        if (terminal && !line.equals(shown)) {
          spec.commandLine().getErr().print("\r" + line);
          spec.commandLine().getErr().flush();
          shown = line;
        }
        Thread.sleep(250);
        imp = send("GET", "/admin/v1/model-imports/" + enc(id));
      }
      if (!shown.isEmpty()) spec.commandLine().getErr().println("\r" + progress(imp));
      if (imp.path("status").asText().equals("failed")) throw new Refused("the import failed: " + imp.path("error").asText());
      out.printf("added %s@%s (sha256 %s, %s)%n", name, imp.path("version").asText(), imp.path("sha256").asText(),
          bytes(imp.path("bytes_total").asLong()));
      return OK;
    }

    /** {@code [#########-----------]  45%  12.0 MiB of 26.7 MiB  copying} */
    static String progress(JsonNode imp) {
      long done = imp.path("bytes_done").asLong();
      long total = imp.path("bytes_total").asLong();
      String status = imp.path("status").asText();
      if (total <= 0) return String.format("%s  %s", bytes(done), status);
      int width = 30;
      int filled = (int) Math.min(width, done * width / total);
      return String.format("[%s%s] %3d%%  %s of %s  %s", "#".repeat(filled), "-".repeat(width - filled), done * 100 / total, bytes(done),
          bytes(total), status);
    }
  }

  static String bytes(long n) {
    if (n < 1024) return n + " B";
    if (n < 1024L * 1024) return String.format("%.1f KiB", n / 1024.0);
    if (n < 1024L * 1024 * 1024) return String.format("%.1f MiB", n / 1048576.0);
    return String.format("%.2f GiB", n / 1073741824.0);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The catalog's models: each version with its size, type and the pools that serve the model.")
  static final class List extends AdminCall {
    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      JsonNode models = send("GET", "/admin/v1/models").path("models");
      out.printf("%-32s  %-8s  %-12s  %10s  %-10s  %-14s  %s%n", "MODEL", "VERSION", "SHA256", "SIZE", "TYPE", "ARCHITECTURE", "POOLS");
      int versions = 0;
      for (JsonNode m : models) {
        for (JsonNode v : m.path("versions")) {
          versions++;
          var pools = new java.util.ArrayList<String>();
          m.path("pools").forEach(p -> pools.add(p.asText()));
          out.printf("%-32s  %-8s  %-12s  %10s  %-10s  %-14s  %s%n", m.path("name").asText(), v.path("version").asText(),
              v.path("sha256").asText().substring(0, 12), bytes(v.path("size").asLong()), v.path("quantization").asText(),
              v.path("architecture").asText(), String.join(",", pools));
        }
      }
      out.println(AuditCommand.plural(models.size(), "model") + ", " + AuditCommand.plural(versions, "version"));
      return OK;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "One model with every version's facts and lineage, as JSON.")
  static final class Show extends AdminCall {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(send("GET", "/admin/v1/models/" + segment(name))));
      return OK;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true,
      description = "Remove a version (NAME@VERSION) or every version (NAME) from the catalog; refused while a pool serves it.")
  static final class Remove extends AdminCall {
    @Parameters(paramLabel = "NAME[@VERSION]")
    String ref;

    @Override
    Integer run(PrintWriter out) throws IOException, InterruptedException {
      ModelRef r;
      try {
        r = ModelRef.parse(ref);
      } catch (IllegalArgumentException e) {
        throw new Usage(e.getMessage());
      }
      String path = "/admin/v1/models/" + segment(r.name()) + (r.latest() ? "" : "/versions/" + segment(r.version()));
      JsonNode gone = send("DELETE", path);
      var versions = new java.util.ArrayList<String>();
      gone.path("versions").forEach(v -> versions.add(v.asText()));
      out.println("removed " + r.name() + " " + String.join(", ", versions));
      return OK;
    }
  }

  /** A path segment: percent-encoded, '/' in a name included. */
  static String segment(String s) {
    return AdminCall.enc(s).replace("+", "%20");
  }

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
