package io.dalang.engine.provision;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * A provisioned engine build, as recorded in its cache directory's {@code engine.json}.
 *
 * @param buildRef what it was built from, e.g. {@code npm:node-llama-cpp@3.22.1 (de3ff81)}
 * @param binarySha256 digest of {@code bin/llama-server}, checked on every cache hit
 */
public record EngineEntry(
    @JsonProperty("engine_id") String engineId,
    String version,
    @JsonProperty("build_ref") String buildRef,
    @JsonProperty("source_digest") String sourceDigest,
    @JsonProperty("binary_sha256") String binarySha256,
    List<String> flags,
    @JsonProperty("built_at") String builtAt) {}
