package io.dalang.runtime.sweep;

import com.fasterxml.jackson.databind.JsonNode;
import io.dalang.protocols.sweep.SweepSummary;
import io.dalang.runtime.http.AdminClient;
import io.dalang.runtime.http.HttpClients;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code dalang sweep --add-to-catalog NAME}: a sweep's variants become versions of a catalog model on a
 * running node, with their lineage ({@code "Q4_K_M of NAME@v1"}) and what the sweep measured as labels,
 * so the recommended quantization is a version a pool can be rolled to. The reference (the base model)
 * is added first unless the model already has it; the files are read by the node from their paths, so
 * the node runs on this machine.
 */
final class CatalogExport {
  private final AdminClient node;
  private final PrintStream err;

  CatalogExport(String url, String key, Path dataDir, PrintStream err) throws IOException {
    this.node = new AdminClient(url, key, HttpClients.toLocalNode(dataDir));
    this.err = err;
  }

  /** Adds every measured variant to model {@code name}; returns {@code variant → name@version}. */
  Map<String, String> add(String name, SweepSummary s) throws IOException, InterruptedException {
    var added = new LinkedHashMap<String, String>();
    String refVersion = existingVersionOf(name, s.provenance().baseModelDigest());
    var ordered = new ArrayList<SweepSummary.Variant>(s.variants());
    ordered.sort((a, b) -> Boolean.compare(b.isReference(), a.isReference())); // the reference first: the others name it
    for (var v : ordered) {
      if (v.isReference() && refVersion != null) {
        added.put(v.name(), name + "@" + refVersion);
        continue;
      }
      var labels = new LinkedHashMap<String, String>();
      labels.put("sweep", s.sweepId());
      labels.put("adherence", String.format(Locale.ROOT, "%.4f", v.adherence()));
      labels.put("tokens-per-second", String.format(Locale.ROOT, "%.1f", v.tokensPerSecondP50()));
      labels.put("recommended", String.valueOf(v.name().equals(s.recommendation().variant())));
      var body = new LinkedHashMap<String, Object>();
      body.put("name", name);
      body.put("from", Path.of(v.modelPath()).toAbsolutePath().toString());
      body.put("sha256", v.modelDigest());
      body.put("labels", labels);
      if (!v.isReference() && refVersion != null) body.put("parent", v.name() + " of " + name + "@" + refVersion);
      String version = awaitImport(node.send("POST", "/admin/v1/models", body).path("id").asText(), v.name());
      if (v.isReference()) refVersion = version;
      added.put(v.name(), name + "@" + version);
      err.printf("sweep: catalog: %s is %s@%s%n", v.name(), name, version);
    }
    return added;
  }

  /** The version of {@code name} that is blob {@code sha256}, or null. */
  private String existingVersionOf(String name, String sha256) throws IOException, InterruptedException {
    JsonNode model;
    try {
      model = node.send("GET", "/admin/v1/models/" + URLEncoder.encode(name, StandardCharsets.UTF_8), null);
    } catch (AdminClient.Refused e) {
      if (e.status() == 404) return null; // not in the catalog yet
      throw e;
    }
    for (JsonNode v : model.path("versions")) if (v.path("sha256").asText().equals(sha256)) return v.path("version").asText();
    return null;
  }

  private String awaitImport(String id, String variant) throws IOException, InterruptedException {
    long end = System.nanoTime() + Duration.ofMinutes(30).toNanos();
    while (System.nanoTime() < end) {
      JsonNode imp = node.send("GET", "/admin/v1/model-imports/" + URLEncoder.encode(id, StandardCharsets.UTF_8), null);
      switch (imp.path("status").asText()) {
        case "done" -> {
          return imp.path("version").asText();
        }
        case "failed" -> throw new IOException("adding " + variant + " to the catalog failed: " + imp.path("error").asText());
        default -> Thread.sleep(200);
      }
    }
    throw new IOException("adding " + variant + " to the catalog did not finish within 30 minutes");
  }

  static List<String> describe(Map<String, String> added) {
    return added.entrySet().stream().map(e -> e.getKey() + " -> " + e.getValue()).toList();
  }
}
