package io.dalang.actors.model;

import io.dalang.protocols.CborSerializable;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * One version of a catalog model: the blob it is (content address and size), what its GGUF header
 * says, and its lineage. A version exists in the catalog only once its blob is stored and verified:
 * there is no half-registered version.
 *
 * @param sequence 1, 2, ... in the order versions were added; the latest is the highest
 * @param source where the blob came from: a path on the control node, or a URL without its query
 * @param parent the version it was derived from ({@code "Q4_K_M of name@v1"}), or null
 * @param addedBy the key id of the admin who added it
 * @param storedOn the cluster address of the control node whose blob store holds it
 */
public record ModelVersion(
    String version,
    int sequence,
    String sha256,
    long size,
    String format,
    String architecture,
    long contextLength,
    String quantization,
    long parameterCount,
    long tensorBytes,
    String source,
    String parent,
    String addedBy,
    Instant addedAt,
    Map<String, String> labels,
    String storedOn)
    implements CborSerializable {

  public ModelVersion {
    labels = labels == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(labels));
  }

  public ModelVersion withVersion(String newVersion, int newSequence) {
    return new ModelVersion(newVersion, newSequence, sha256, size, format, architecture, contextLength, quantization, parameterCount,
        tensorBytes, source, parent, addedBy, addedAt, labels, storedOn);
  }
}
